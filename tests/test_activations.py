"""Activations and derivatives: against fl.reference, PyTorch 2.13 (float64) and finite
differences; the tail values the seeds are about; special values."""
import warnings

import numpy as np
import pytest

import fastloss as fl
from conftest import assert_close

# (name, parameters) for every elementwise activation and option combination
ELEMENTWISE = [
    ('identity', {}), ('sigmoid', {}), ('tanh', {}), ('relu', {}),
    ('leaky_relu', {}), ('leaky_relu', {'negative_slope': 0.2}),
    ('elu', {}), ('elu', {'alpha': 0.5}),
    ('softplus', {}), ('softplus', {'beta': 2.0, 'threshold': 5.0}),
    ('softplus', {'beta': 0.5, 'threshold': 30.0}),
    ('log_sigmoid', {}), ('silu', {}), ('gelu', {}), ('gelu', {'approximate': 'tanh'}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in p.items())}" if p else n for n, p in ELEMENTWISE]


def fwd_args(name, params):
    """Forward functions take their parameters positionally or by keyword (PyTorch order)."""
    return params


def sample(dtype, n=4001, seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.linspace(-30, 30, n), rng.standard_normal(n) * 5,
                        [0.0, -0.0, 1e-30, -1e-30, 80, -80, 700, -700]])
    return x.astype(dtype)


@pytest.mark.parametrize('name,params', ELEMENTWISE, ids=IDS)
def test_forward_matches_reference(name, params, dtype):
    x = sample(dtype)
    got = getattr(fl, name)(x, **params)
    ref = getattr(fl.reference, name)(x, **params)
    assert got.dtype == dtype and ref.dtype == dtype
    assert_close(got, ref, dtype, ulps=4, what=name)


@pytest.mark.parametrize('name,params', ELEMENTWISE, ids=IDS)
@pytest.mark.parametrize('with_g', [False, True], ids=['no_g', 'g'])
def test_grad_matches_reference(name, params, dtype, with_g):
    if name == 'gelu' and dtype == np.float64 and not params:
        pytest.skip("reference erfc is only double-accurate: float64 gelu' is checked "
                    "against mpmath in test_accuracy.py")
    x = sample(dtype)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype) if with_g else None
    got = getattr(fl, name + '_grad')(x, g, **params)
    ref = getattr(fl.reference, name + '_grad')(x, g, **params)
    assert got.dtype == dtype
    # with g the product g*f'(x) adds one rounding
    assert_close(got, ref, dtype, ulps=5 if with_g else 4, what=name + '_grad')


@pytest.mark.parametrize('name,params', ELEMENTWISE, ids=IDS)
def test_grad_matches_finite_differences(name, params):
    x = np.concatenate([np.linspace(-8, 8, 161), [-0.3, 0.7, 2.5]])
    x = x[np.abs(x) > 1e-3]                                 # away from relu-type kinks
    if 'threshold' in params:
        x = x[np.abs(params.get('beta', 1) * x - params['threshold']) > 1e-3]
    f = getattr(fl, name)
    h = 1e-5
    fd = (f(x + h, **params) - f(x - h, **params)) / (2 * h)
    np.testing.assert_allclose(getattr(fl, name + '_grad')(x, **params), fd,
                               rtol=1e-7, atol=1e-9)


TORCH_FORWARD = {
    'identity': lambda T, x, p: x * 1,
    'sigmoid': lambda T, x, p: T.sigmoid(x),
    'tanh': lambda T, x, p: T.tanh(x),
    'relu': lambda T, x, p: T.relu(x),
    'leaky_relu': lambda T, x, p: T.nn.functional.leaky_relu(x, **p),
    'elu': lambda T, x, p: T.nn.functional.elu(x, **p),
    'softplus': lambda T, x, p: T.nn.functional.softplus(x, **p),
    'log_sigmoid': lambda T, x, p: T.nn.functional.logsigmoid(x),
    'silu': lambda T, x, p: T.nn.functional.silu(x),
    'gelu': lambda T, x, p: T.nn.functional.gelu(x, **p),
}


@pytest.mark.parametrize('name,params', ELEMENTWISE, ids=IDS)
def test_against_torch(name, params, torch):
    x = np.concatenate([np.linspace(-15, 15, 3001), [0.0, 1e-12, -1e-12]])
    g = np.random.default_rng(2).standard_normal(x.shape)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = TORCH_FORWARD[name](torch, xt, params)
    yt.backward(torch.tensor(g))
    # torch's gelu is 0.5 x (1 + erf(x/sqrt2)) (and 1 + tanh): it cancels in the negative
    # tail, where fastloss keeps the digits, hence the absolute tolerance for gelu
    atol = 1e-13 if name == 'gelu' else 1e-15
    np.testing.assert_allclose(getattr(fl, name)(x, **params), yt.detach().numpy(),
                               rtol=1e-13, atol=atol)
    np.testing.assert_allclose(getattr(fl, name + '_grad')(x, g, **params),
                               xt.grad.numpy(), rtol=1e-12, atol=atol)


def test_float32_against_torch(torch):
    x = np.linspace(-20, 20, 10001).astype(np.float32)
    for name, params in ELEMENTWISE:
        got = getattr(fl, name)(x, **params)
        ref = TORCH_FORWARD[name](torch, torch.tensor(x), params).numpy()
        assert got.dtype == np.float32
        atol = 2e-6 if name == 'gelu' else 1e-37      # torch float32 gelu cancels (see above)
        np.testing.assert_allclose(got, ref, rtol=2e-6, atol=atol, err_msg=name)


# ---- the seeds' subject: derivatives that are tiny but not zero ------------------------

def test_tail_derivatives_keep_their_digits():
    assert fl.sigmoid_grad(40.0) == pytest.approx(4.248354255291589e-18, rel=1e-15)
    assert fl.tanh_grad(10.0) == pytest.approx(8.244614546626394e-09, rel=1e-15)
    g32 = fl.sigmoid_grad(np.float32(20))
    assert g32.dtype == np.float32 and g32 == pytest.approx(2.0611537e-09, rel=1e-6)
    assert fl.log_sigmoid_grad(50.0) == pytest.approx(np.exp(-50.0), rel=1e-15)
    assert fl.softplus_grad(-40.0) == pytest.approx(4.248354255291589e-18, rel=1e-15)
    assert -1e-190 < fl.gelu_grad(-30.0) < 0      # x phi(x) dominates: gelu' < 0 below -0.75


def test_torch_loses_what_fastloss_keeps(torch):
    """Where the naive s(1-s) underflows, fastloss's form does not."""
    x = torch.tensor([40.0], dtype=torch.float64, requires_grad=True)
    torch.sigmoid(x).backward()
    assert x.grad.item() == 0.0
    assert fl.sigmoid_grad(40.0) > 0


SPECIAL = {
    # name: (f(-inf), f(+inf))
    'sigmoid': (0.0, 1.0), 'tanh': (-1.0, 1.0), 'relu': (0.0, np.inf),
    'leaky_relu': (-np.inf, np.inf), 'elu': (-1.0, np.inf), 'softplus': (0.0, np.inf),
    'log_sigmoid': (-np.inf, 0.0), 'silu': (0.0, np.inf), 'gelu': (0.0, np.inf),
}


@pytest.mark.parametrize('name', sorted(SPECIAL))
def test_infinities_nan_and_no_warnings(name, dtype):
    f, fg = getattr(fl, name), getattr(fl, name + '_grad')
    x = np.array([-np.inf, np.inf, np.nan, 0.0, -0.0, 1e4, -1e4], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        y, d = f(x), fg(x)
    assert y[0] == SPECIAL[name][0] and y[1] == SPECIAL[name][1]
    assert np.isnan(y[2]) and np.isnan(d[2])
    assert np.all(np.isfinite(d[[0, 1, 3, 4, 5, 6]]))
    assert np.all(np.isfinite(y[[3, 4]]))


def test_relu_kink_derivative_is_zero():
    assert fl.relu_grad(0.0) == 0.0
    assert fl.leaky_relu_grad(0.0, negative_slope=0.1) == pytest.approx(0.1)


def test_scalar_inputs_give_numpy_scalars():
    y = fl.sigmoid(0.0)
    assert isinstance(y, np.float64) and y == 0.5
    assert isinstance(fl.tanh(np.float32(0.5)), np.float32)
    assert isinstance(fl.relu(np.array(-1.0)), np.float64)


# ---- softmax family ---------------------------------------------------------------------

SHAPES_AXES = [((7,), -1), ((4, 10), -1), ((4, 10), 0), ((3, 5, 4), 1), ((2, 3, 4, 5), 2),
               ((2, 70, 3), 1), ((3, 2, 130), 2), ((5, 1), 1), ((), 0)]


@pytest.mark.parametrize('shape,axis', SHAPES_AXES, ids=[f'{s}-ax{a}' for s, a in SHAPES_AXES])
@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
def test_softmax_family_matches_reference(name, shape, axis, dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    assert_close(getattr(fl, name)(x, axis), getattr(fl.reference, name)(x, axis), dtype,
                 ulps=4, what=name)
    got = getattr(fl, name + '_grad')(x, g, axis)
    ref = getattr(fl.reference, name + '_grad')(x, g, axis)
    # the grads subtract a dot product: compare with a tolerance scaled to the terms
    scale = np.max(np.abs(ref)) if np.size(ref) else 1
    np.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == np.float32 else 1e-13,
                               atol=scale * (1e-6 if dtype == np.float32 else 1e-14))


@pytest.mark.parametrize('axis', [0, 1, -1])
def test_softmax_family_against_torch(axis, torch):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 9)) * 3
    g = rng.standard_normal((6, 9))
    for name, tf in (('softmax', torch.softmax), ('log_softmax', torch.log_softmax)):
        xt = torch.tensor(x, requires_grad=True)
        yt = tf(xt, axis)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(getattr(fl, name)(x, axis), yt.detach().numpy(), rtol=1e-13)
        np.testing.assert_allclose(getattr(fl, name + '_grad')(x, g, axis), xt.grad.numpy(),
                                   rtol=1e-11, atol=1e-15)


def test_log_softmax_keeps_the_dominant_class():
    """log_softmax([0, -20]) = -log1p(e^-20): the naive log(sum) gives 1e-9 relative error."""
    y = fl.log_softmax(np.array([0.0, -20.0]))
    assert y[0] == pytest.approx(-np.log1p(np.exp(-20.0)), rel=1e-15)
    y32 = fl.log_softmax(np.array([0.0, -12.0], np.float32))
    assert y32[0] == pytest.approx(-np.log1p(np.exp(-12.0)), rel=1e-6)


def test_softmax_extremes():
    assert np.array_equal(fl.softmax(np.array([1e4, -1e4, 0.0])), [1.0, 0.0, 0.0])
    assert np.array_equal(fl.log_softmax(np.array([np.inf, 1.0, 2.0])), [0.0, -np.inf, -np.inf])
    assert np.array_equal(fl.softmax(np.array([np.inf, 1.0])), [1.0, 0.0])
    masked = fl.softmax(np.array([0.0, -np.inf, 0.0]))
    assert np.array_equal(masked, [0.5, 0.0, 0.5])
    assert np.all(np.isnan(fl.softmax(np.array([-np.inf, -np.inf]))))
    assert np.all(np.isnan(fl.log_softmax(np.array([1.0, np.nan, 2.0]))))
    assert fl.softmax(np.zeros((0, 3))).shape == (0, 3)
    assert fl.softmax(np.zeros((3, 0))).shape == (3, 0)


# ---- prelu ------------------------------------------------------------------------------

@pytest.mark.parametrize('shape,wsize', [((10,), 1), ((4, 3), 3), ((4, 3), 1),
                                         ((2, 3, 5), 3), ((2, 3, 4, 5), 3)])
def test_prelu_matches_reference_and_torch(shape, wsize, dtype, torch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.uniform(0.05, 0.5, wsize).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    assert_close(fl.prelu(x, w), fl.reference.prelu(x, w), dtype, ulps=0.5)
    gx, gw = fl.prelu_grad(x, w, g)
    rx, rw = fl.reference.prelu_grad(x, w, g)
    assert_close(gx, rx, dtype, ulps=0.5)
    assert gw.shape == w.shape and gw.dtype == dtype
    np.testing.assert_allclose(gw, rw, rtol=1e-6 if dtype == np.float32 else 1e-13)
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    wt = torch.tensor(w.astype(np.float64), requires_grad=True)
    torch.nn.functional.prelu(xt, wt).backward(torch.tensor(g.astype(np.float64)))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=tol)
    np.testing.assert_allclose(gw, wt.grad.numpy(), rtol=tol, atol=tol)


def test_identity_grad_is_a_copy_of_grad_output(dtype):
    """identity is linear: its derivative is 1 at every x (NaN and inf included, as PyTorch's
    backward), so the gradient is grad_output itself, in a new array"""
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 1.0], dtype)
    g = np.array([1.5, -2.0, 3.0, np.nan, 4.0], dtype)
    d = fl.identity_grad(x, g)
    np.testing.assert_array_equal(d, g)
    assert d is not g and not np.shares_memory(d, g)
    np.testing.assert_array_equal(fl.identity_grad(x), np.ones(5, dtype))
