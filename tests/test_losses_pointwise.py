"""Elementwise losses (issue 3): value, _grad and _value_and_grad against PyTorch float64
autograd, fastloss.reference and finite differences; the seeds' numbers; extreme inputs;
bad input; determinism over thread counts; layouts; out=."""
import numpy as np
import pytest

import fastloss as fl
from fastloss import reference as ref
from conftest import ulp_error

REDUCTIONS = ('mean', 'sum', 'none')


def _data(kind, n, rng, dtype=np.float64):
    """(input, target) of a kind suited to the loss."""
    if kind == 'reg':
        x, t = rng.standard_normal(n), rng.standard_normal(n)
    elif kind == 'pos':            # msle: mostly positive, some below eps
        x, t = rng.uniform(-0.5, 4, n), rng.uniform(-0.5, 4, n)
    elif kind == 'prob':
        x, t = rng.uniform(0.01, 0.99, n), rng.uniform(0, 1, n)
    elif kind == 'logit':
        x, t = 5 * rng.standard_normal(n), rng.uniform(0, 1, n)
    elif kind == 'sign':
        x, t = 2 * rng.standard_normal(n), rng.choice([-1.0, 1.0], n)
    elif kind == 'kl':
        x, t = rng.standard_normal(n) - 2, np.where(rng.uniform(size=n) < 0.2, 0, rng.uniform(0, 1, n))
    elif kind == 'logkl':
        x, t = rng.standard_normal(n) - 2, rng.standard_normal(n) - 1
    elif kind == 'count':
        x, t = rng.standard_normal(n), rng.poisson(2.0, n).astype(float)
    elif kind == 'rate':
        x, t = rng.uniform(0.1, 4, n), rng.poisson(2.0, n).astype(float)
    return x.astype(dtype), t.astype(dtype)


def _torch_fns(torch):
    F = torch.nn.functional
    relu = torch.relu
    return {
        'mse_loss': lambda x, t, r, **k: F.mse_loss(x, t, reduction=r),
        'l1_loss': lambda x, t, r, **k: F.l1_loss(x, t, reduction=r),
        'huber_loss': lambda x, t, r, **k: F.huber_loss(x, t, reduction=r, **k),
        'smooth_l1_loss': lambda x, t, r, **k: F.smooth_l1_loss(x, t, reduction=r, **k),
        'msle_loss': lambda x, t, r, eps=1e-7: _red(torch, (torch.log1p(x.clamp(min=eps))
                                                            - torch.log1p(t.clamp(min=eps))) ** 2, r),
        'mape_loss': lambda x, t, r, eps=1e-7: _red(torch, 100 * (t - x).abs()
                                                    / t.abs().clamp(min=eps), r),
        'binary_cross_entropy': lambda x, t, r, **k: F.binary_cross_entropy(x, t, reduction=r, **k),
        'binary_cross_entropy_with_logits':
            lambda x, t, r, **k: F.binary_cross_entropy_with_logits(x, t, reduction=r, **k),
        'hinge_loss': lambda x, t, r: _red(torch, relu(1 - t * x), r),
        'squared_hinge_loss': lambda x, t, r: _red(torch, relu(1 - t * x) ** 2, r),
        'exponential_loss': lambda x, t, r: _red(torch, torch.exp(-t * x), r),
        'kl_div': lambda x, t, r, **k: F.kl_div(x, t, reduction=r, **k),
        'poisson_nll_loss': lambda x, t, r, **k: F.poisson_nll_loss(x, t, reduction=r, **k),
    }


def _red(torch, l, r):
    return l.mean() if r == 'mean' else l.sum() if r == 'sum' else l


# (loss, kwargs, data kind); weights are added per case in _kwargs
CASES = [
    ('mse_loss', {}, 'reg'), ('l1_loss', {}, 'reg'),
    ('huber_loss', {}, 'reg'), ('huber_loss', {'delta': 0.5}, 'reg'),
    ('smooth_l1_loss', {}, 'reg'), ('smooth_l1_loss', {'beta': 0.3}, 'reg'),
    ('smooth_l1_loss', {'beta': 0.0}, 'reg'),
    ('msle_loss', {}, 'pos'), ('mape_loss', {}, 'reg'),
    ('binary_cross_entropy', {}, 'prob'), ('binary_cross_entropy', {'weight': 'w'}, 'prob'),
    ('binary_cross_entropy_with_logits', {}, 'logit'),
    ('binary_cross_entropy_with_logits', {'weight': 'w', 'pos_weight': 'pw'}, 'logit'),
    ('binary_cross_entropy_with_logits', {'pos_weight': 'pw'}, 'logit'),
    ('hinge_loss', {}, 'sign'), ('squared_hinge_loss', {}, 'sign'),
    ('exponential_loss', {}, 'sign'),
    ('kl_div', {}, 'kl'), ('kl_div', {'log_target': True}, 'logkl'),
    ('poisson_nll_loss', {}, 'count'), ('poisson_nll_loss', {'full': True}, 'count'),
    ('poisson_nll_loss', {'log_input': False}, 'rate'),
    ('poisson_nll_loss', {'log_input': False, 'full': True}, 'rate'),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw, _ in CASES]
SHAPE = (6, 5)


def _kwargs(kw, rng, shape, dtype=np.float64):
    """weight: one per column, broadcast to input; pos_weight: along the last axis."""
    out = dict(kw)
    if kw.get('weight') == 'w':
        out['weight'] = rng.uniform(0.2, 2, shape[1:]).astype(dtype)
    if kw.get('pos_weight') == 'pw':
        out['pos_weight'] = rng.uniform(0.5, 3, shape[-1]).astype(dtype)
    return out


def _tol(dtype):
    return 3e-5 if np.dtype(dtype) == np.float32 else 1e-12


def _close(got, want, dtype, what):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = max(1.0, float(np.nanmax(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=_tol(dtype), atol=_tol(dtype) * scale,
                               equal_nan=True, err_msg=what)


@pytest.mark.filterwarnings('ignore:reduction')      # PyTorch's note on kl_div 'mean'
@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('name,kw,kind', CASES, ids=IDS)
def test_against_torch(torch, name, kw, kind, reduction):
    rng = np.random.default_rng(1)
    x, t = _data(kind, SHAPE[0] * SHAPE[1], rng)
    x, t = x.reshape(SHAPE), t.reshape(SHAPE)
    kw = _kwargs(kw, rng, SHAPE)
    go = rng.standard_normal(SHAPE) if reduction == 'none' else 0.7
    xt = torch.tensor(x, requires_grad=True)
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    if name == 'smooth_l1_loss' and 'beta' not in tkw:
        tkw['beta'] = 1.0
    lt = _torch_fns(torch)[name](xt, torch.tensor(t), reduction, **tkw)
    lt.backward(torch.tensor(go) if reduction == 'none' else torch.tensor(go, dtype=torch.float64))
    value = getattr(fl, name)(x, t, reduction=reduction, **kw)
    grad = getattr(fl, name + '_grad')(x, t, reduction=reduction, grad_output=go, **kw)
    _close(value, lt.detach().numpy(), np.float64, f'{name} value')
    _close(grad, xt.grad.numpy(), np.float64, f'{name} grad')


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('name,kw,kind', CASES, ids=IDS)
def test_against_reference(name, kw, kind, reduction, dtype):
    rng = np.random.default_rng(2)
    x, t = _data(kind, 3 * 4099, rng, dtype)          # several blocks, a partial one
    x, t = x.reshape(3, 4099), t.reshape(3, 4099)
    kw = _kwargs(kw, rng, x.shape, dtype)
    go = rng.standard_normal(x.shape).astype(dtype) if reduction == 'none' else 1.3
    f, fg, fvg = (getattr(fl, name + s) for s in ('', '_grad', '_value_and_grad'))
    r, rg = getattr(ref, name), getattr(ref, name + '_grad')
    value = f(x, t, reduction=reduction, **kw)
    grad = fg(x, t, reduction=reduction, grad_output=go, **kw)
    v2, g2 = fvg(x, t, reduction=reduction, grad_output=go, **kw)
    if reduction == 'none':
        assert value.dtype == dtype and value.shape == x.shape
    else:
        assert type(value) is dtype.type
    assert grad.dtype == dtype and grad.shape == x.shape
    _close(value, r(x, t, reduction=reduction, **kw), dtype, f'{name} value')
    _close(grad, rg(x, t, reduction=reduction, grad_output=go, **kw), dtype, f'{name} grad')
    # the fused form computes the same numbers in one pass (up to the compiler's fma
    # contraction, which may differ between the loop bodies by an ulp or two)
    _close(v2, value, dtype, 'fused value')
    _close(g2, grad, dtype, 'fused grad')
    rv, rgr = getattr(ref, name + '_value_and_grad')(x, t, reduction=reduction, grad_output=go, **kw)
    _close(v2, rv, dtype, 'reference value_and_grad')


@pytest.mark.parametrize('name,kw,kind', CASES, ids=IDS)
def test_finite_differences(name, kw, kind):
    rng = np.random.default_rng(3)
    x, t = _data(kind, 200, rng)
    if kind == 'pos':                      # keep away from the eps kink
        x = np.abs(x) + 0.01
    if kind in ('sign',):                  # keep away from the hinge kink
        x = np.where(np.abs(1 - t * x) < 1e-3, x + 0.01, x)
    kw = {k: v for k, v in kw.items() if k not in ('weight', 'pos_weight')}
    f = getattr(fl, name)
    g = getattr(fl, name + '_grad')(x, t, reduction='none', **kw)
    h = 1e-6 * np.maximum(1, np.abs(x))
    fd = (f(x + h, t, reduction='none', **kw) - f(x - h, t, reduction='none', **kw)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * max(1, np.abs(fd).max()))


def test_seed_numbers():
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], float)
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert abs(0.5 * fl.mse_loss(y, t, reduction='sum') - 0.0975) < 1e-12
    assert abs(fl.l1_loss([1, 2, 3], [1, 2, 5]) - 0.6667) < 1e-4
    assert fl.l1_loss([1, 2, 3], [1, 2, 5], reduction='sum') == 2
    np.testing.assert_array_equal(fl.l1_loss_grad([1, 2, 3], [1, 2, 5], reduction='sum'), [0, 0, -1])


def test_extreme_logits(torch, dtype):
    x = np.array([-np.inf, np.inf, -1e4, 1e4, -1e4, 1e4, 0, -np.inf, np.inf], dtype)
    t = np.array([0, 1, 0, 1, 1, 0, 0.5, 0.3, 0.3], dtype)
    l, g = fl.binary_cross_entropy_with_logits_value_and_grad(x, t, reduction='none')
    finite = np.array([1, 1, 1, 1, 1, 1, 1, 0, 0], bool)
    assert np.isfinite(l[finite]).all() and np.isinf(l[~finite]).all() and np.isfinite(g).all()
    np.testing.assert_allclose(l[:7], [0, 0, 0, 0, 1e4, 1e4, np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(g, [0, 0, 0, 0, -1, 1, 0, -0.3, 0.7], rtol=1e-6, atol=0)
    # pos_weight and weight keep it finite too
    l2 = fl.binary_cross_entropy_with_logits(x, t, pos_weight=np.full(9, 2.0, dtype), reduction='none')
    assert np.isfinite(l2[finite]).all()
    # finite logits agree with PyTorch
    xf, tf = x[2:7].astype(np.float64), t[2:7].astype(np.float64)
    xt = torch.tensor(xf, requires_grad=True)
    lt = torch.nn.functional.binary_cross_entropy_with_logits(xt, torch.tensor(tf), reduction='sum')
    lt.backward()
    np.testing.assert_allclose(fl.binary_cross_entropy_with_logits(xf, tf, reduction='sum'), lt.item())
    np.testing.assert_allclose(fl.binary_cross_entropy_with_logits_grad(xf, tf, reduction='sum'),
                               xt.grad.numpy())


def test_extreme_probabilities(torch, dtype):
    x = np.array([0, 0, 0, 1, 1, 1, 0.5], dtype)
    t = np.array([0, 1, 0.5, 0, 1, 0.5, 1], dtype)
    l, g = fl.binary_cross_entropy_value_and_grad(x, t, reduction='none')
    assert np.isfinite(l).all() and np.isfinite(g).all()
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    lt = torch.nn.functional.binary_cross_entropy(xt, torch.tensor(t.astype(np.float64)),
                                                  reduction='none')
    lt.sum().backward()
    np.testing.assert_allclose(l, lt.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-6)


def test_special_values():
    nan = np.nan
    assert np.isnan(fl.mse_loss([1.0, nan], [0.0, 0.0]))
    assert np.isnan(fl.binary_cross_entropy([0.5, nan], [0.0, 0.0]))
    assert np.isnan(fl.l1_loss_grad([nan], [0.0], reduction='none')[0])
    np.testing.assert_array_equal(fl.l1_loss_grad([1.0, 2.0], [1.0, 3.0], reduction='none'), [0, -1])
    assert fl.exponential_loss([-1e4], [1.0]) == np.inf
    assert fl.kl_div([-np.inf, 0.0], [0.0, 0.0], reduction='sum') == 0
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        fl.exponential_loss(np.array([-1e3, 1e3]), np.array([1.0, 1.0]))
        fl.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
        fl.poisson_nll_loss(np.array([1e3, -1e3]), np.array([1.0, 3.0]), full=True)


def test_empty():
    e = np.zeros(0)
    assert np.isnan(fl.mse_loss(e, e)) and fl.mse_loss(e, e, reduction='sum') == 0
    assert fl.mse_loss(e, e, reduction='none').shape == (0,)
    assert fl.mse_loss_grad(np.zeros((0, 3), np.float32), np.zeros((0, 3))).shape == (0, 3)
    v, g = fl.kl_div_value_and_grad(np.zeros((0, 2)), np.zeros((0, 2)), reduction='batchmean')
    assert np.isnan(v) and g.shape == (0, 2)


def test_kl_batchmean():
    rng = np.random.default_rng(4)
    x, t = _data('kl', 12, rng)
    x, t = x.reshape(4, 3), t.reshape(4, 3)
    s = fl.kl_div(x, t, reduction='sum')
    assert fl.kl_div(x, t, reduction='batchmean') == pytest.approx(s / 4, rel=1e-15)
    np.testing.assert_allclose(fl.kl_div_grad(x, t, reduction='batchmean'), -t / 4)


def test_dtype_rules():
    x32 = np.ones(5, np.float32)
    assert type(fl.mse_loss(x32, np.zeros(5))) is np.float32
    assert type(fl.mse_loss([1, 2], [0, 0])) is np.float64
    assert fl.mse_loss_grad(x32, np.zeros(5), reduction='none').dtype == np.float32
    assert fl.mse_loss(np.ones(3, np.float16), np.zeros(3)).dtype == np.float32
    with pytest.raises(TypeError, match='input'):
        fl.mse_loss(np.ones(3, complex), np.zeros(3))


def test_bad_input():
    with pytest.raises(ValueError, match=r'target.*\(3, 1\).*input.*\(3,\)'):
        fl.mse_loss(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r'input.*\[0, 1\].*1\.5 at position 4'):
        fl.binary_cross_entropy(np.array([0.1, 0.2, 0.3, 0.4, 1.5]), np.zeros(5))
    with pytest.raises(ValueError, match=r'-0\.25 at position 1'):
        fl.binary_cross_entropy_grad(np.array([[0.1, -0.25]]), np.zeros((1, 2)))
    for f in (fl.hinge_loss, fl.squared_hinge_loss_grad, fl.exponential_loss_value_and_grad):
        with pytest.raises(ValueError, match=r'target.*-1 or \+1.*0\.0 at position 2.*2\*target-1'):
            f(np.zeros(4), np.array([1.0, -1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match=r"reduction.*'mean'.*got 'avg'"):
        fl.mse_loss(np.zeros(3), np.zeros(3), reduction='avg')
    with pytest.raises(ValueError, match='reduction'):
        fl.mse_loss(np.zeros(3), np.zeros(3), reduction='batchmean')
    with pytest.raises(ValueError, match='weight'):
        fl.binary_cross_entropy(np.full((2, 3), 0.5), np.zeros((2, 3)), weight=np.ones(2))
    with pytest.raises(ValueError, match='grad_output'):
        fl.mse_loss_grad(np.zeros(3), np.zeros(3), reduction='none', grad_output=np.ones(2))
    with pytest.raises(ValueError, match='delta'):
        fl.huber_loss(np.zeros(3), np.zeros(3), delta=0)
    with pytest.raises(ValueError, match='beta'):
        fl.smooth_l1_loss(np.zeros(3), np.zeros(3), beta=-1)
    with pytest.raises(ValueError, match='out'):
        fl.mse_loss_grad(np.zeros(3), np.zeros(3), out=np.zeros(4))


@pytest.mark.parametrize('name,kind', [('mse_loss', 'reg'), ('l1_loss', 'reg'),
                                       ('binary_cross_entropy_with_logits', 'logit'),
                                       ('binary_cross_entropy', 'prob')])
def test_thread_count_bitwise(name, kind):
    rng = np.random.default_rng(5)
    x, t = _data(kind, 3_000_001, rng, np.float32)
    f, fvg = getattr(fl, name), getattr(fl, name + '_value_and_grad')
    res = []
    for n in (1, 2, 3):
        with fl.num_threads(n):
            res.append((f(x, t), f(x, t, reduction='sum'), fvg(x, t, reduction='sum')))
    for r in res[1:]:
        assert r[0].tobytes() == res[0][0].tobytes() and r[1].tobytes() == res[0][1].tobytes()
        assert r[2][0].tobytes() == res[0][2][0].tobytes()
        np.testing.assert_array_equal(r[2][1], res[0][2][1])
    assert res[0][2][0].tobytes() == res[0][1].tobytes()


@pytest.mark.parametrize('name,kind', [('mse_loss', 'reg'), ('l1_loss', 'reg'), ('huber_loss', 'reg'),
                                       ('binary_cross_entropy_with_logits', 'logit'),
                                       ('hinge_loss', 'sign')])
def test_float32_mean_within_1ulp(name, kind):
    rng = np.random.default_rng(6)
    x, t = _data(kind, 200_000, rng, np.float32)
    got = getattr(fl, name)(x, t)
    want = getattr(ref, name)(x.astype(np.float64), t.astype(np.float64))   # exact inputs
    err = float(ulp_error(got, want, np.float32))
    assert err <= 1, f'{name}: float32 mean off by {err:.2f} ulp'


@pytest.mark.parametrize('name,kw,kind', CASES[:1] + CASES[9:14] + CASES[17:18], ids=IDS[:1] + IDS[9:14] + IDS[17:18])
def test_layouts(name, kw, kind):
    rng = np.random.default_rng(7)
    x, t = _data(kind, 40 * 30, rng)
    x, t = x.reshape(40, 30), t.reshape(40, 30)
    kw = {k: v for k, v in kw.items() if k not in ('weight', 'pos_weight')}
    fvg = getattr(fl, name + '_value_and_grad')
    base = [fvg(x, t, reduction=r, **kw) for r in REDUCTIONS]
    big_x, big_t = np.zeros((80, 60)), np.zeros((80, 60))
    big_x[::2, ::2], big_t[::2, ::2] = x, t
    ro_x, ro_t = x.copy(), t.copy()
    ro_x.flags.writeable = ro_t.flags.writeable = False
    variants = [(np.asfortranarray(x), np.asfortranarray(t)), (big_x[::2, ::2], big_t[::2, ::2]),
                (ro_x, ro_t), (x.astype('>f8'), t.astype('>f8'))]
    for xv, tv in variants:
        for r, (v0, g0) in zip(REDUCTIONS, base):
            v, g = fvg(xv, tv, reduction=r, **kw)
            np.testing.assert_array_equal(v, v0)
            np.testing.assert_array_equal(g, g0)


def test_out(dtype):
    rng = np.random.default_rng(8)
    x, t = _data('reg', 50, rng, dtype)
    x0, t0 = x.copy(), t.copy()
    want = fl.mse_loss_grad(x, t, reduction='none')
    out = np.full(50, 7, dtype)
    res = fl.mse_loss_grad(x, t, reduction='none', out=out)
    assert res is out
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)
    v, g = fl.huber_loss_value_and_grad(x, t, reduction='sum', out=out)
    assert g is out and v == fl.huber_loss(x, t, reduction='sum')
    big = np.zeros(100, dtype)                      # strided out
    res = fl.mse_loss_grad(x, t, reduction='none', out=big[::2])
    np.testing.assert_array_equal(big[::2], want)
    assert not big[1::2].any()
    xi = x.copy()                                   # in place
    fl.mse_loss_grad(xi, t, reduction='none', out=xi)
    np.testing.assert_array_equal(xi, want)
    with pytest.raises(TypeError, match='dtype'):
        fl.mse_loss_grad(x, t, out=np.zeros(50, np.int64))
    ro = np.zeros(50, dtype)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match='read-only'):
        fl.mse_loss_grad(x, t, out=ro)


def test_public_names():
    from fastloss import _pointwise_losses as P
    assert len(P.LOSSES) == 13 and len(P.__all__) == 39
    for name in P.__all__:
        assert callable(getattr(fl, name)) and callable(getattr(ref, name))


def test_msle_close_to_the_target_within_4_ulp(dtype):
    """msle where the prediction is close to the target (the regime of a converged model):
    the difference of two log1p lost |log1p| / |r| of its digits there (a median of 1900 ulp
    and up to 5e7 ulp in the loss at 0.1% apart).  Against mpmath, 4 ulp in the loss and the
    gradient, from 1e-7 relative apart to far apart, and below eps."""
    mp = pytest.importorskip('mpmath')
    from conftest import record_ulp
    mp.mp.prec = 160
    rng = np.random.default_rng(11)
    n = 1500
    t = rng.uniform(0, 10, n)
    x = np.abs(t * (1 + rng.normal(size=n) * 10.0 ** rng.uniform(-7, 0, n)))
    x[:40] = rng.uniform(0, 1e-6, 40)
    t[40:80] = rng.uniform(0, 1e-6, 40)
    x, t = x.astype(dtype), t.astype(dtype)
    v, g = fl.msle_loss_value_and_grad(x, t, reduction='none')
    eps = mp.mpf(float(dtype.type(1e-7)))
    rv, rg = [], []
    for xi, ti in zip(x.tolist(), t.tolist()):
        mx, mt = max(mp.mpf(xi), eps), max(mp.mpf(ti), eps)
        r = mp.log1p(mx) - mp.log1p(mt)
        rv.append(r * r)
        rg.append(0 if mp.mpf(xi) < eps else 2 * r / (1 + mx))
    to_ld = lambda a: np.array([mp.nstr(u, 40) for u in a], dtype=np.longdouble)
    ev, eg = ulp_error(v, to_ld(rv), dtype), ulp_error(g, to_ld(rg), dtype)
    record_ulp('msle_loss (per element)', dtype, ev, x)
    record_ulp('msle_loss_grad', dtype, eg, x)
    assert ev.max() <= 4 and eg.max() <= 4, (ev.max(), eg.max())
