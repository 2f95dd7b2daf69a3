"""Issue 5, property tests (Hypothesis): random shapes, dtypes, strides and values (extremes
included) for every activation and loss.

* fastloss equals fl.reference: float64 within rtol 1e-12 (+ atol 1e-300), float32 within
  rtol 5e-6 of the reference's value (+ atol 1e-37), mean/sum within rtol 1e-5 / 1e-12;
* gradients match central finite differences (float64, h = 1e-6 relative, rtol 1e-4)
  away from kinks;
* random (mostly invalid) argument combinations raise only TypeError / ValueError.

Example counts are modest for CI; FASTLOSS_HYPOTHESIS_EXAMPLES raises them.
"""
import os
import warnings

import numpy as np
import pytest

hyp = pytest.importorskip('hypothesis')
from hypothesis import HealthCheck, assume, given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import fastloss as fl  # noqa: E402
from fastloss import reference as R  # noqa: E402
from _cases import CLASS, POINTWISE, SIGN  # noqa: E402

N_EX = int(os.environ.get('FASTLOSS_HYPOTHESIS_EXAMPLES', '25'))
SETTINGS = settings(max_examples=N_EX, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))

TOL = {np.dtype(np.float32): dict(rtol=5e-6, atol=1e-37),
       np.dtype(np.float64): dict(rtol=1e-12, atol=1e-300)}
RED_TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}

dtypes = st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)


def _values(dtype, lo, hi, extremes=True):
    el = st.floats(lo, hi, width=8 * dtype.itemsize, allow_nan=False, allow_infinity=False)
    return el


@st.composite
def layout(draw, a):
    """`a` (values fixed) in a random memory layout: C, Fortran, strided, reversed, or
    non-native byte order."""
    kind = draw(st.sampled_from(['c', 'f', 'strided', 'reversed', 'swapped', 'readonly']))
    if kind == 'f' and a.ndim:              # asfortranarray makes a 0-d array 1-d
        return np.asfortranarray(a)
    if kind == 'strided':
        big = np.zeros(a.shape + (2,), a.dtype)
        big[..., 0] = a
        return big[..., 0]
    if kind == 'reversed' and a.ndim:
        return np.ascontiguousarray(a[::-1])[::-1]
    if kind == 'swapped':
        return a.astype(a.dtype.newbyteorder())
    if kind == 'readonly':
        b = a.copy()
        b.setflags(write=False)
        return b
    return a


RANGES = {   # (input range, target range) with extremes that keep the loss finite-ish
    'binary_cross_entropy': ((0.0, 1.0), (0.0, 1.0)),
    'binary_cross_entropy_with_logits': ((-1e4, 1e4), (0.0, 1.0)),
    'kl_div': ((-50.0, 5.0), (0.0, 10.0)),
    'poisson_nll_loss': ((-60.0, 60.0), (0.0, 50.0)),
    'msle_loss': ((-1.0, 1e6), (-1.0, 1e6)),
    'mape_loss': ((-1e6, 1e6), (-1e6, 1e6)),
    'exponential_loss': ((-60.0, 60.0), None),
}


@st.composite
def pointwise_case(draw, name):
    dt = draw(dtypes)
    shape = draw(shapes)
    (xl, xh), tr = RANGES.get(name, ((-1e6, 1e6), (-1e6, 1e6)))
    x = draw(hnp.arrays(dt, shape, elements=_values(dt, xl, xh)))
    if name in SIGN:
        t = draw(hnp.arrays(dt, shape, elements=st.sampled_from([-1.0, 1.0])))
    else:
        t = draw(hnp.arrays(dt, shape, elements=_values(dt, *tr)))
    return draw(layout(x)), draw(layout(t)), dt


def _close(got, want, dt, what, rtol=None):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, what
    assert got.dtype == want.dtype == dt, (what, got.dtype, want.dtype)
    tol = dict(TOL[dt]) if rtol is None else dict(rtol=rtol, atol=TOL[dt]['atol'])
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), equal_nan=True,
                               err_msg=what, **tol)


def _reduced_close(got, want, dt, scale, what):
    """mean/sum: float64 accumulation vs the long double reference, relative to the sum of
    absolute terms (cancellation in the sum is not the kernel's error)."""
    g, w = float(got), float(want)
    if np.isnan(w) or np.isinf(w):
        assert g == w or (np.isnan(g) and np.isnan(w)), (what, g, w)
        return
    assert abs(g - w) <= RED_TOL[dt] * max(scale, abs(w)) + 1e-300, (what, g, w, scale)


@pytest.mark.parametrize('name', POINTWISE)
def test_pointwise_matches_reference(name):
    @SETTINGS
    @given(pointwise_case(name))
    def run(case):
        x, t, dt = case
        f, fr = getattr(fl, name + '_value_and_grad'), getattr(R, name + '_value_and_grad')
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            v, g = f(x, t, reduction='none')
        vr, gr = fr(x, t, reduction='none')
        _close(v, vr, dt, f'{name} value')
        _close(g, gr, dt, f'{name} grad', rtol=TOL[dt]['rtol'] * 4)
        scale = float(np.sum(np.abs(vr.astype(np.float64))))
        for red in ('sum', 'mean'):
            n = max(x.size, 1) if red == 'mean' else 1
            _reduced_close(getattr(fl, name)(x, t, reduction=red),
                           getattr(R, name)(x, t, reduction=red), dt, scale / n, f'{name} {red}')
    run()


@st.composite
def class_case(draw, name):
    dt = draw(dtypes)
    N = draw(st.integers(0, 6))
    C = draw(st.integers(1, 6))
    if name == 'categorical_cross_entropy':
        y = draw(hnp.arrays(dt, (N, C), elements=_values(dt, 0.0, 1.0)))
        t = draw(hnp.arrays(dt, (N, C), elements=_values(dt, 0.0, 1.0)))
        return draw(layout(y)), draw(layout(t)), {}, dt
    x = draw(hnp.arrays(dt, (N, C), elements=_values(dt, -1e3, 1e3)))
    if name == 'nll_loss':
        x = -np.abs(x)
    ign = draw(st.sampled_from([-100, 0, C - 1]))
    t = draw(hnp.arrays(draw(st.sampled_from([np.int64, np.int8, np.uint16])), (N,),
                        elements=st.integers(0, C - 1)))
    kw = dict(ignore_index=ign)
    if draw(st.booleans()):
        kw['weight'] = draw(hnp.arrays(dt, (C,), elements=_values(dt, 0.0, 10.0)))
    if name == 'cross_entropy':
        kw['label_smoothing'] = draw(st.sampled_from([0.0, 0.1, 1.0]))
    return draw(layout(x)), t, kw, dt


@pytest.mark.parametrize('name', CLASS)
def test_class_losses_match_reference(name):
    @SETTINGS
    @given(class_case(name))
    def run(case):
        x, t, kw, dt = case
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            v, g = getattr(fl, name + '_value_and_grad')(x, t, **kw, reduction='none')
        vr, gr = getattr(R, name + '_value_and_grad')(x, t, **kw, reduction='none')
        rtol = TOL[dt]['rtol'] * 8
        # the reference's float32 path loses relative accuracy on tiny losses (e.g.
        # log1p(e^-35)): absolute tolerance 8 eps on top of the relative one
        np.testing.assert_allclose(v.astype(np.float64), vr.astype(np.float64), rtol=rtol,
                                   atol=8 * np.finfo(dt).eps, equal_nan=True, err_msg=name)
        assert v.dtype == dt
        np.testing.assert_allclose(g.astype(np.float64), gr.astype(np.float64),
                                   # the reference forms p - 1 with absolute error ~eps
                                   rtol=rtol, atol=16 * np.finfo(dt).eps
                                   * max(1.0, np.max(np.abs(kw.get('weight', 1.0)))),
                                   equal_nan=True, err_msg=f'{name} grad')
        for red in ('sum', 'mean'):
            got = getattr(fl, name)(x, t, **kw, reduction=red)
            want = getattr(R, name)(x, t, **kw, reduction=red)
            assert type(got) is dt.type
            np.testing.assert_allclose(float(got), float(want), rtol=RED_TOL[dt] * 10,
                                       equal_nan=True, atol=1e-300)
    run()


ELEMENTWISE_ACT = ('identity', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'elu', 'softplus',
                   'log_sigmoid', 'gelu', 'silu')


@pytest.mark.parametrize('name', ELEMENTWISE_ACT)
def test_activations_match_reference(name):
    @SETTINGS
    @given(dtypes.flatmap(lambda dt: st.tuples(
        st.just(dt), hnp.arrays(dt, shapes, elements=st.floats(
            -1e4, 1e4, width=8 * dt.itemsize)))))
    def run(case):
        dt, x = case
        g0 = np.full(x.shape, 0.75, dt)
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            y = getattr(fl, name)(x)
            d = getattr(fl, name + '_grad')(x, g0)
        # activations are held to a few ULP in test_accuracy; here a loose relative bound
        rtol = 1e-5 if dt == np.float32 else 1e-13
        for got, want in ((y, getattr(R, name)(x)), (d, getattr(R, name + '_grad')(x, g0))):
            assert got.dtype == dt and got.shape == x.shape
            np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                       rtol=rtol, atol=np.finfo(dt).tiny * 16, err_msg=name)
    run()


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_axis_activations_match_reference(name):
    @SETTINGS
    @given(dtypes.flatmap(lambda dt: st.tuples(
        st.just(dt), hnp.arrays(dt, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                                elements=st.floats(-1e3, 1e3, width=8 * dt.itemsize)))),
           st.integers(-3, 2))
    def run(case, axis):
        dt, x = case
        assume(-x.ndim <= axis < x.ndim)
        rtol = 1e-5 if dt == np.float32 else 1e-12
        got, want = getattr(fl, name)(x, axis=axis), getattr(R, name)(x, axis=axis)
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64),
                                   rtol=rtol, atol=rtol * 1e-3, err_msg=name)
    run()


# ---- gradients against finite differences (float64) ---------------------------------------

KINK = {   # distance to the nearest kink of the pointwise loss, as a function of (x, t)
    'l1_loss': lambda x, t: np.abs(x - t),
    'mape_loss': lambda x, t: np.abs(x - t),
    'huber_loss': lambda x, t: np.abs(np.abs(x - t) - 1.0),
    'smooth_l1_loss': lambda x, t: np.abs(np.abs(x - t) - 1.0),
    'msle_loss': lambda x, t: np.abs(x - 1e-7),
    'hinge_loss': lambda x, t: np.abs(1 - t * x),
    'squared_hinge_loss': lambda x, t: np.abs(1 - t * x),
    'binary_cross_entropy': lambda x, t: np.minimum(x, 1 - x),
}


@pytest.mark.parametrize('name', POINTWISE)
def test_pointwise_gradients_match_finite_differences(name):
    (xl, xh), tr = RANGES.get(name, ((-1e6, 1e6), (-1e6, 1e6)))
    xl, xh = max(xl, -20.0), min(xh, 20.0)
    if name == 'binary_cross_entropy':
        xl, xh = 0.01, 0.99

    @SETTINGS
    @given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(xl, xh)),
           st.data())
    def run(x, data):
        if name in SIGN:
            t = data.draw(hnp.arrays(np.float64, x.shape, elements=st.sampled_from([-1.0, 1.0])))
        else:
            lo, hi = (tr if tr else (-20.0, 20.0))
            t = data.draw(hnp.arrays(np.float64, x.shape,
                                     elements=st.floats(max(lo, -20.0), min(hi, 20.0))))
        if name in KINK:
            assume(np.all(KINK[name](x, t) > 1e-3))
        if name == 'poisson_nll_loss':
            pass
        g = getattr(fl, name + '_grad')(x, t, reduction='sum')
        f = lambda z: float(getattr(R, name)(z, t, reduction='sum'))
        fd = np.empty_like(x)
        for i in range(x.size):
            h = 1e-6 * max(1.0, abs(x[i]))
            if name == 'binary_cross_entropy':
                h = min(h, 0.5 * min(x[i], 1 - x[i]))
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            xm[i] -= h
            fd[i] = (f(xp) - f(xm)) / (xp[i] - xm[i])
        np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(fd).max()),
                                   err_msg=name)
    run()


@pytest.mark.parametrize('name', ['cross_entropy', 'nll_loss', 'categorical_cross_entropy',
                                  'log_softmax', 'softmax'])
def test_class_gradients_match_finite_differences(name):
    @SETTINGS
    @given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 5)),
                      elements=st.floats(-5, 5)), st.data())
    def run(x, data):
        N, C = x.shape
        t = data.draw(hnp.arrays(np.int64, (N,), elements=st.integers(0, C - 1)))
        if name == 'categorical_cross_entropy':
            x = 0.05 + 0.9 / (1 + np.exp(-x))            # probabilities away from the clip
            tt = np.eye(C)[t]
            g = fl.categorical_cross_entropy_grad(x, tt, reduction='sum')
            f = lambda z: float(R.categorical_cross_entropy(z, tt, reduction='sum'))
        elif name in ('softmax', 'log_softmax'):
            w = np.linspace(-1, 1, x.size).reshape(x.shape)
            g = getattr(fl, name + '_grad')(x, w, axis=1)
            f = lambda z: float(np.sum(w * getattr(R, name)(z, axis=1)))
        else:
            kw = dict(weight=np.linspace(0.5, 2, C))
            g = getattr(fl, name + '_grad')(x, t, **kw, reduction='sum')
            f = lambda z: float(getattr(R, name)(z, t, **kw, reduction='sum'))
        fd = np.empty_like(x)
        h = 1e-6
        for i in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            xm[i] -= h
            fd[i] = (f(xp) - f(xm)) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-6, err_msg=name)
    run()


# ---- random argument combinations raise only TypeError / ValueError ------------------------

def _junk_arrays():
    return st.one_of(
        hnp.arrays(st.sampled_from([np.float32, np.float64, np.float16, np.int8, np.int64,
                                    np.uint64, np.bool_, np.complex64, np.dtype('>f8'),
                                    np.dtype('<U2'), np.dtype('O')]),
                   hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
        st.lists(st.floats(allow_nan=True), max_size=4),
        st.floats(allow_nan=True), st.integers(-2**70, 2**70), st.none(), st.text(max_size=3),
        st.complex_numbers(max_magnitude=10), st.just([[1.0], [2.0, 3.0]]),
    )


def _junk_scalars():
    return st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=True), st.text(max_size=5),
                     st.sampled_from(['mean', 'sum', 'none', 'batchmean', 'tanh']),
                     st.complex_numbers(max_magnitude=2), st.just(np.array([1, 2])))


PUBLIC = sorted(n for n in dir(fl) if callable(getattr(fl, n)) and not n.startswith('_')
                and n not in ('show_config', 'set_num_threads', 'num_threads', 'get_num_threads',
                              'set_buffer_cache', 'buffer_cache_info'))


def fuzz_one(data, name):
    """One random call of fl.<name> with junk and valid-ish arguments; the only exceptions
    allowed are TypeError and ValueError."""
    f = getattr(fl, name)
    nargs = data.draw(st.integers(1, 4), label='nargs')
    args = [data.draw(_junk_arrays(), label=f'arg{i}') for i in range(nargs)]
    kw = {}
    for key in data.draw(st.lists(st.sampled_from(
            ['reduction', 'weight', 'pos_weight', 'ignore_index', 'label_smoothing', 'axis',
             'grad_output', 'out', 'eps', 'delta', 'beta', 'blank', 'negative_slope',
             'alpha', 'threshold', 'approximate', 'log_target', 'zero_infinity', 'full',
             'log_input']), unique=True, max_size=3), label='keys'):
        kw[key] = data.draw(_junk_arrays() if key in ('weight', 'pos_weight', 'grad_output',
                                                      'out') else _junk_scalars(), label=key)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            f(*args, **kw)
        except (TypeError, ValueError):
            pass


@pytest.mark.parametrize('name', PUBLIC)
def test_invalid_combinations_raise_only_type_or_value_error(name):
    @settings(max_examples=max(N_EX // 2, 10), deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data):
        fuzz_one(data, name)
    run()
