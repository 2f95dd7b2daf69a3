"""cross_entropy, nll_loss, categorical_cross_entropy: values and gradients against PyTorch
(float64 autograd), fastloss.reference and finite differences; ignore_index, weights,
label smoothing, probability targets, integer target dtypes, bad input, extreme logits,
thread-count independence, out=."""
import numpy as np
import pytest

import fastloss as fl
import fastloss.reference as R
from conftest import assert_close

REDUCTIONS = ('mean', 'sum', 'none')
SHAPES = {'1d': (5,), '2d': (6, 5), 'nd': (4, 5, 3, 2)}
C = 5
IGNORES = {'absent': (-100, None), 'minus100': (-100, -100), 'in_range': (1, 1),
           'out255': (255, 255)}


def _tol(dtype):
    return dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-13)


def _index_target(rng, shape, ignore_value):
    tshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    t = rng.integers(0, C, tshape)
    if ignore_value is not None:
        t = np.asarray(t)
        t.reshape(-1)[::3] = ignore_value
    return np.asarray(t)


def _prob_target(rng, shape, dtype):
    q = rng.random(shape) ** 2
    return (q / q.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)).astype(dtype)


def _torch_value_and_grad(torch, fn, x, args, kwargs, reduction, go):
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    loss = fn(xt, *args, reduction=reduction, **kwargs)
    loss.backward(torch.tensor(np.asarray(go, np.float64)) if reduction == 'none'
                  else torch.tensor(float(go)))
    return loss.detach().numpy(), xt.grad.numpy()


def _grad_output(rng, reduction, shape):
    if reduction != 'none':
        return 1.7
    rshape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    return rng.normal(size=rshape)


@pytest.mark.parametrize('shape', SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize('ignore', IGNORES, ids=list(IGNORES))
@pytest.mark.parametrize('soft', [False, True], ids=['index', 'prob'])
def test_cross_entropy_matrix(torch, dtype, shape, ignore, soft):
    F = torch.nn.functional
    shape = SHAPES[shape]
    ignore_index, ignore_value = IGNORES[ignore]
    rng = np.random.default_rng(len(shape) * 10 + len(ignore))
    x = (rng.normal(size=shape) * 3).astype(dtype)
    target = _prob_target(rng, shape, dtype) if soft else _index_target(rng, shape, ignore_value)
    tt = torch.tensor(target.astype(np.float64) if soft else target)
    tol = _tol(dtype)
    for weight in (None, rng.random(C).astype(dtype) + 0.5):
        wt = None if weight is None else torch.tensor(weight.astype(np.float64))
        for ls in (0.0, 0.1):
            kw = dict(weight=weight, ignore_index=ignore_index, label_smoothing=ls)
            if soft and ignore_index >= 0:
                with pytest.raises(ValueError, match='ignore_index'):
                    fl.cross_entropy(x, target, **kw)
                continue
            for red in REDUCTIONS:
                go = _grad_output(rng, red, shape)
                what = f"{shape} weight={weight is not None} ls={ls} {red}"
                ref_v, ref_g = _torch_value_and_grad(
                    torch, F.cross_entropy, x, (tt,),
                    dict(weight=wt, ignore_index=ignore_index, label_smoothing=ls), red, go)
                v = fl.cross_entropy(x, target, **kw, reduction=red)
                g = fl.cross_entropy_grad(x, target, **kw, reduction=red, grad_output=go)
                v2, g2 = fl.cross_entropy_value_and_grad(x, target, **kw, reduction=red,
                                                         grad_output=go)
                assert np.asarray(v).dtype == dtype and g.dtype == dtype and g.shape == shape
                if red != 'none':
                    assert type(v) is dtype.type
                assert_close(v, ref_v, dtype, **tol, what='value vs torch ' + what)
                assert_close(g, ref_g, dtype, **tol, what='grad vs torch ' + what)
                np.testing.assert_array_equal(v2, v)
                np.testing.assert_array_equal(g2, g)
                rv, rg = R.cross_entropy_value_and_grad(x, target, **kw, reduction=red,
                                                        grad_output=go)
                assert_close(v, rv, dtype, **tol, what='value vs reference ' + what)
                assert_close(g, rg, dtype, **tol, what='grad vs reference ' + what)


@pytest.mark.parametrize('shape', SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize('ignore', IGNORES, ids=list(IGNORES))
def test_nll_loss_matrix(torch, dtype, shape, ignore):
    F = torch.nn.functional
    shape = SHAPES[shape]
    ignore_index, ignore_value = IGNORES[ignore]
    rng = np.random.default_rng(len(shape) + len(ignore))
    x = fl.log_softmax(rng.normal(size=shape).astype(dtype), axis=0 if len(shape) == 1 else 1)
    target = _index_target(rng, shape, ignore_value)
    tt = torch.tensor(target)
    tol = _tol(dtype)
    for weight in (None, rng.random(C).astype(dtype) + 0.5):
        wt = None if weight is None else torch.tensor(weight.astype(np.float64))
        kw = dict(weight=weight, ignore_index=ignore_index)
        for red in REDUCTIONS:
            go = _grad_output(rng, red, shape)
            what = f"{shape} weight={weight is not None} {red}"
            ref_v, ref_g = _torch_value_and_grad(torch, F.nll_loss, x, (tt,),
                                                 dict(weight=wt, ignore_index=ignore_index),
                                                 red, go)
            v = fl.nll_loss(x, target, **kw, reduction=red)
            g = fl.nll_loss_grad(x, target, **kw, reduction=red, grad_output=go)
            v2, g2 = fl.nll_loss_value_and_grad(x, target, **kw, reduction=red, grad_output=go)
            assert_close(v, ref_v, dtype, **tol, what='value vs torch ' + what)
            assert_close(g, ref_g, dtype, **tol, what='grad vs torch ' + what)
            np.testing.assert_array_equal(v2, v)
            np.testing.assert_array_equal(g2, g)
            rv, rg = R.nll_loss_value_and_grad(x, target, **kw, reduction=red, grad_output=go)
            assert_close(v, rv, dtype, **tol, what='value vs reference ' + what)
            assert_close(g, rg, dtype, **tol, what='grad vs reference ' + what)


@pytest.mark.parametrize('axis', [-1, 0, 1])
@pytest.mark.parametrize('red', REDUCTIONS)
def test_categorical_cross_entropy(dtype, axis, red):
    rng = np.random.default_rng(3)
    shape = (6, 5)
    y = _prob_target(rng, shape, dtype)
    y[0, 0], y[1, 1] = 0, 1                         # clipped: no gradient there
    t = _prob_target(rng, shape, dtype)
    go = 1.3 if red != 'none' else rng.normal(size=shape[:axis % 2] + shape[axis % 2 + 1:])
    v, g = fl.categorical_cross_entropy_value_and_grad(y, t, axis=axis, reduction=red,
                                                       grad_output=go)
    lo, hi = dtype.type(1e-7), dtype.type(1) - dtype.type(1e-7)
    y64 = y.astype(np.float64)
    per = -(t * np.log(np.clip(y64, lo, hi))).sum(axis=axis)
    ref = per.mean() if red == 'mean' else per.sum() if red == 'sum' else per
    tol = _tol(dtype)
    assert_close(v, ref, dtype, **tol, what='value')
    rv, rg = R.categorical_cross_entropy_value_and_grad(y, t, axis=axis, reduction=red,
                                                        grad_output=go)
    assert_close(v, rv, dtype, **tol, what='value vs reference')
    assert_close(g, rg, dtype, **tol, what='grad vs reference')
    assert g[0, 0] == 0 and g[1, 1] == 0
    np.testing.assert_array_equal(fl.categorical_cross_entropy(y, t, axis=axis, reduction=red), v)
    np.testing.assert_array_equal(
        fl.categorical_cross_entropy_grad(y, t, axis=axis, reduction=red, grad_output=go), g)


@pytest.mark.parametrize('shape', [(1, 1), (3, 2), (130, 10), (1100, 7), (5, 129), (3, 300)],
                         ids=str)
@pytest.mark.parametrize('red', REDUCTIONS)
def test_categorical_cross_entropy_row_paths(dtype, shape, red):
    """classes last: flat loops over whole blocks, line sums through a buffer (short rows)
    or along each row (long rows); out= on the input itself"""
    rng = np.random.default_rng(5)
    y = rng.uniform(-0.05, 1.05, shape).astype(dtype)       # some clipped, some outside
    y.flat[::11] = np.nan
    t = _prob_target(rng, shape, dtype)
    go = 0.7 if red != 'none' else rng.normal(size=shape[0]).astype(dtype)
    rv, rg = R.categorical_cross_entropy_value_and_grad(y, t, reduction=red, grad_output=go)
    v, g = fl.categorical_cross_entropy_value_and_grad(y, t, reduction=red, grad_output=go)
    tol = _tol(dtype)
    assert_close(v, rv, dtype, **tol, what='value')
    assert_close(g, rg, dtype, **tol, what='grad')
    yy = y.copy()
    v2, g2 = fl.categorical_cross_entropy_value_and_grad(yy, t, reduction=red, grad_output=go,
                                                         out=yy)
    assert g2 is yy
    np.testing.assert_array_equal(v2, v)
    np.testing.assert_array_equal(g2, g)


def test_categorical_cross_entropy_seed():
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], float)
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert abs(fl.categorical_cross_entropy(y, t) - 0.5108) < 1e-4
    assert abs(fl.categorical_cross_entropy(y, t) + np.log(0.6)) < 1e-15
    assert abs(fl.categorical_cross_entropy(y.astype(np.float32), t) + np.log(0.6)) < 1e-6


def _fd(f, x, h=1e-5):
    g = np.zeros_like(x)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[i] += h
        xm.flat[i] -= h
        g.flat[i] = (f(xp) - f(xm)) / (2 * h)
    return g


@pytest.mark.parametrize('red', ['mean', 'sum'])
def test_gradients_finite_differences(red):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 4, 2))
    t = np.array([[0, 3], [-100, 1], [2, 2]])
    w = rng.random(4) + 0.5
    q = _prob_target(rng, x.shape, np.float64)
    cases = [
        (lambda z: fl.cross_entropy(z, t, weight=w, label_smoothing=0.2, reduction=red),
         fl.cross_entropy_grad(x, t, weight=w, label_smoothing=0.2, reduction=red)),
        (lambda z: fl.cross_entropy(z, q, weight=w, label_smoothing=0.1, reduction=red),
         fl.cross_entropy_grad(x, q, weight=w, label_smoothing=0.1, reduction=red)),
        (lambda z: fl.nll_loss(z, t, weight=w, reduction=red),
         fl.nll_loss_grad(x, t, weight=w, reduction=red)),
    ]
    y = _prob_target(rng, x.shape, np.float64)
    cases.append((lambda z: fl.categorical_cross_entropy(z, q, axis=1, reduction=red),
                  fl.categorical_cross_entropy_grad(y, q, axis=1, reduction=red)))
    for i, (f, g) in enumerate(cases):
        np.testing.assert_allclose(g, _fd(f, y if i == 3 else x), rtol=1e-6, atol=1e-8,
                                   err_msg=f"case {i}")


def test_all_ignored_and_empty(dtype):
    x = np.ones((3, 4), dtype)
    t = np.full(3, -100)
    for f in (fl.cross_entropy, fl.nll_loss):
        assert np.isnan(f(x, t)) and f(x, t, reduction='sum') == 0
        v, g = getattr(fl, f.__name__ + '_value_and_grad')(x, t)
        assert np.isnan(v) and not g.any()
        np.testing.assert_array_equal(f(x, t, reduction='none'), np.zeros(3, dtype))
    assert np.isnan(fl.cross_entropy(x, t, label_smoothing=0.1))
    e = np.empty((0, 4), dtype)
    te = np.empty(0, np.int64)
    assert np.isnan(fl.cross_entropy(e, te)) and fl.cross_entropy(e, te, reduction='sum') == 0
    assert fl.cross_entropy(e, te, reduction='none').shape == (0,)
    assert fl.cross_entropy_grad(e, te).shape == (0, 4)
    assert np.isnan(fl.categorical_cross_entropy(e, e))


@pytest.mark.parametrize('tdtype', [np.int8, np.uint8, np.int16, np.int32, np.uint32,
                                    np.uint64, np.int64])
def test_target_dtypes_and_layouts(tdtype):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(8, 5))
    t64 = rng.integers(0, 5, 8)
    ref = fl.cross_entropy_value_and_grad(x, t64, reduction='none')
    t = t64.astype(tdtype)
    for tv in (t, t[::-1].copy()[::-1], t.astype(t.dtype.newbyteorder())):
        v, g = fl.cross_entropy_value_and_grad(x, tv, reduction='none')
        np.testing.assert_array_equal(v, ref[0])
        np.testing.assert_array_equal(g, ref[1])
    big = np.zeros((16, 5))
    big[::2] = x
    np.testing.assert_array_equal(fl.cross_entropy(big[::2], t, reduction='none'), ref[0])
    np.testing.assert_array_equal(fl.cross_entropy(np.asfortranarray(x), t, reduction='none'),
                                  ref[0])
    xr = x.copy()
    xr.flags.writeable = False
    np.testing.assert_array_equal(fl.cross_entropy(xr, t, reduction='none'), ref[0])
    np.testing.assert_array_equal(fl.cross_entropy(x.tolist(), t.tolist(), reduction='none'),
                                  ref[0])


@pytest.mark.parametrize('bad', [5, -1, 2 ** 40])
@pytest.mark.parametrize('f', ['cross_entropy', 'nll_loss'])
def test_bad_index(bad, f):
    x = np.zeros((4, 5))
    t = np.array([0, 1, bad, 2])
    for form in ('', '_grad', '_value_and_grad'):
        with pytest.raises(ValueError, match=rf"class index {bad} at position 2"):
            getattr(fl, f + form)(x, t)
    out = np.full((4, 5), 7.0)
    with pytest.raises(ValueError):
        getattr(fl, f + '_grad')(x, t, out=out)
    assert (out == 7).all()                          # nothing written on error
    with pytest.raises(ValueError, match="position 5"):
        fl.cross_entropy(np.zeros((2, 5, 3)), np.array([[0, 1, 2], [3, 4, 9]]))
    with pytest.raises(ValueError, match="position 1"):
        fl.cross_entropy(x, np.array([0, 2 ** 63 + 5, 0, 0], np.uint64))


def test_bad_arguments():
    x = np.zeros((4, 5))
    t = np.zeros(4, np.int64)
    with pytest.raises(TypeError, match='integer'):
        fl.cross_entropy(x, np.zeros(4))
    with pytest.raises(TypeError, match='integer'):
        fl.nll_loss(x, np.zeros(4, np.float32))
    with pytest.raises(TypeError):
        fl.cross_entropy(x, np.zeros((4, 5), np.int64))
    with pytest.raises(ValueError, match=r"\(4, 1\)"):
        fl.cross_entropy(x, np.zeros((4, 1), np.int64))
    with pytest.raises(ValueError, match='reduction'):
        fl.cross_entropy(x, t, reduction='avg')
    with pytest.raises(ValueError, match='weight'):
        fl.cross_entropy(x, t, weight=np.ones(4))
    with pytest.raises(ValueError, match='label_smoothing'):
        fl.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(TypeError):
        fl.cross_entropy(x.astype(complex), t)
    with pytest.raises(ValueError):
        fl.cross_entropy(x, t, axis=2)
    with pytest.raises(ValueError, match='target'):
        fl.categorical_cross_entropy(x, np.zeros((4, 4)))
    with pytest.raises(ValueError, match='grad_output'):
        fl.cross_entropy_grad(x, t, reduction='none', grad_output=np.ones(3))
    with pytest.raises(ValueError):
        fl.cross_entropy_grad(x, t, out=np.zeros((4, 4)))
    with pytest.raises(TypeError):
        fl.cross_entropy_grad(x, t, out=np.zeros((4, 5), np.float32))


def test_extreme_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, -np.inf, 2.0],
                  [-np.inf, 3.0, -np.inf]], dtype)
    t = np.array([1, 2, 0, 1])
    with np.errstate(all='raise'):
        v, g = fl.cross_entropy_value_and_grad(x, t, reduction='none')
    rv, rg = R.cross_entropy_value_and_grad(x, t, reduction='none')
    assert np.isfinite(v).all() and np.isfinite(g).all()
    assert_close(v, rv, dtype, rtol=1e-6, what='value')
    assert_close(g, rg, dtype, rtol=1e-6, atol=1e-7, what='grad')
    assert v[0] == dtype.type(2e4) and abs(v[1] - np.log(2)) < 1e-6 and v[3] == 0
    assert g[2, 1] == 0 and g[3, 0] == 0 and g[3, 1] == 0
    # smoothing puts mass on the masked class: the loss is +inf (its true value)
    assert np.isinf(fl.cross_entropy(x[2:3], t[2:3], label_smoothing=0.1))
    # one +inf logit: the limit; NaN propagates; a row of -inf has no limit
    xi = np.array([[np.inf, 0.0, 1.0], [np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0],
                   [-np.inf, -np.inf, -np.inf]], dtype)
    v, g = fl.cross_entropy_value_and_grad(xi, np.array([0, 1, 1, 0]), reduction='none')
    assert v[0] == 0 and v[1] == np.inf and np.isnan(v[2]) and np.isnan(v[3])
    np.testing.assert_array_equal(g[0], [0, 0, 0])
    assert np.isnan(g[2]).all()
    # probability targets: 0 * log 0 = 0 for a masked class
    q = np.array([[0.5, 0.0, 0.5]], dtype)
    assert np.isfinite(fl.cross_entropy(x[2:3], q))


def test_thread_count_bitwise():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(300_000, 10)).astype(np.float32)
    t = rng.integers(0, 10, 300_000)
    t[::7] = -100
    w = rng.random(10).astype(np.float32)
    results = []
    for n in (1, 2, 3):
        with fl.num_threads(n):
            results.append((fl.cross_entropy(x, t, weight=w, label_smoothing=0.1),
                            fl.cross_entropy(x, t, reduction='sum'),
                            fl.cross_entropy_value_and_grad(x, t),
                            fl.categorical_cross_entropy(fl.softmax(x), fl.softmax(x * 2))))
    for r in results[1:]:
        assert r[0].tobytes() == results[0][0].tobytes()
        assert r[1].tobytes() == results[0][1].tobytes()
        assert r[2][0].tobytes() == results[0][2][0].tobytes()
        np.testing.assert_array_equal(r[2][1], results[0][2][1])
        assert r[3].tobytes() == results[0][3].tobytes()
    ref = R.cross_entropy(x[:20000], t[:20000], reduction='sum')
    assert_close(fl.cross_entropy(x[:20000], t[:20000], reduction='sum'), ref, np.float32,
                 ulps=1, what='float32 sum')


def test_out(dtype):
    rng = np.random.default_rng(13)
    x = rng.normal(size=(6, 5)).astype(dtype)
    t = rng.integers(0, 5, 6)
    ref = fl.cross_entropy_grad(x, t)
    out = np.empty_like(x)
    assert fl.cross_entropy_grad(x, t, out=out) is out
    np.testing.assert_array_equal(out, ref)
    v, g = fl.cross_entropy_value_and_grad(x, t, out=out)
    assert g is out and v == fl.cross_entropy(x, t)
    outf = np.empty((5, 6), dtype).T                # non-contiguous out
    assert fl.cross_entropy_grad(x, t, out=outf) is outf
    np.testing.assert_array_equal(outf, ref)
    xi = x.copy()                                   # in place
    fl.cross_entropy_grad(xi, t, label_smoothing=0.1, out=xi)
    np.testing.assert_array_equal(xi, fl.cross_entropy_grad(x, t, label_smoothing=0.1))
    q = _prob_target(rng, x.shape, dtype)
    qi = q.copy()                                   # out aliasing the target
    fl.cross_entropy_grad(x, qi, out=qi)
    np.testing.assert_array_equal(qi, fl.cross_entropy_grad(x, q))
    y = q.copy()
    fl.categorical_cross_entropy_grad(y, q, out=y)
    np.testing.assert_array_equal(y, fl.categorical_cross_entropy_grad(q, q))
    xn = x.copy()
    fl.nll_loss_grad(xn, t, out=xn)
    np.testing.assert_array_equal(xn, fl.nll_loss_grad(x, t))


def test_names():
    for name in fl.LOSSES[:0] + ('cross_entropy', 'nll_loss', 'categorical_cross_entropy'):
        assert name in fl.LOSSES
        for form in ('', '_grad', '_value_and_grad'):
            assert callable(getattr(fl, name + form)) and callable(getattr(R, name + form))


@pytest.mark.parametrize('C_', [1, 16, 17, 40])
def test_row_lengths(torch, dtype, C_):
    """Rows of <= 16 classes take the padded path, longer rows the plain SIMD path."""
    F = torch.nn.functional
    rng = np.random.default_rng(C_)
    x = (rng.normal(size=(7, C_)) * 4).astype(dtype)
    t = rng.integers(0, C_, 7)
    t[2] = -100
    w = (rng.random(C_) + 0.5).astype(dtype)
    q = _prob_target(rng, x.shape, dtype)
    tol = _tol(dtype)
    for target, tt in ((t, torch.tensor(t)), (q, torch.tensor(q.astype(np.float64)))):
        ref_v, ref_g = _torch_value_and_grad(
            torch, F.cross_entropy, x, (tt,),
            dict(weight=torch.tensor(w.astype(np.float64)), label_smoothing=0.1), 'mean', 1.0)
        v, g = fl.cross_entropy_value_and_grad(x, target, weight=w, label_smoothing=0.1)
        assert_close(v, ref_v, dtype, **tol, what=f'value C={C_}')
        assert_close(g, ref_g, dtype, **tol, what=f'grad C={C_}')
    y = _prob_target(rng, x.shape, dtype)
    v, g = fl.categorical_cross_entropy_value_and_grad(y, q, reduction='none')
    rv, rg = R.categorical_cross_entropy_value_and_grad(y, q, reduction='none')
    assert_close(v, rv, dtype, **tol, what=f'cce value C={C_}')
    assert_close(g, rg, dtype, **tol, what=f'cce grad C={C_}')


@pytest.mark.parametrize('shape', [(1, 10), (64, 10), (131, 7), (70, 32), (33, 33), (9, 300),
                                   (130, 64), (70, 100), (65, 128), (20, 129),
                                   (5, 10, 3), (3, 6, 70), (2, 4, 5, 17), (150, 10, 1)])
def test_lean_path(torch, dtype, shape):
    """Class indices without weight or smoothing take the lean kernels (rows of at most 512
    bytes, 128 floats or 64 doubles, transposed 64 at a time, longer rows along the row,
    (N, C, d...) across 64 positions);
    they must agree with PyTorch (float64), with the general path (weight = ones), for every
    reduction, grad_output, ignored targets, chunk tails and in-place gradients."""
    F = torch.nn.functional
    rng = np.random.default_rng(sum(shape))
    x = (rng.normal(size=shape) * 4).astype(dtype)
    Cn = shape[1]
    t = rng.integers(0, Cn, shape[:1] + shape[2:])
    t.reshape(-1)[1::4] = -100
    ones = np.ones(Cn, dtype)
    tol = _tol(dtype)
    for red in REDUCTIONS:
        go = _grad_output(rng, red, shape)
        ref_v, ref_g = _torch_value_and_grad(torch, F.cross_entropy, x, (torch.tensor(t),),
                                             {}, red, go)
        v, g = fl.cross_entropy_value_and_grad(x, t, reduction=red, grad_output=go)
        assert_close(v, ref_v, dtype, **tol, what=f'lean value {shape} {red}')
        assert_close(g, ref_g, dtype, **tol, what=f'lean grad {shape} {red}')
        gv, gg = fl.cross_entropy_value_and_grad(x, t, weight=ones, reduction=red,
                                                 grad_output=go)
        assert_close(v, gv, dtype, ulps=4, what=f'lean vs general value {shape} {red}')
        assert_close(g, gg, dtype, ulps=4, what=f'lean vs general grad {shape} {red}')
        np.testing.assert_array_equal(fl.cross_entropy(x, t, reduction=red), v)
        np.testing.assert_array_equal(fl.cross_entropy_grad(x, t, reduction=red,
                                                            grad_output=go), g)
        xi = x.copy()
        fl.cross_entropy_grad(xi, t, reduction=red, grad_output=go, out=xi)
        np.testing.assert_array_equal(xi, g)
    assert (g.reshape(shape[0], Cn, -1).transpose(0, 2, 1).reshape(-1, Cn)
            [t.reshape(-1) == -100] == 0).all()
    bad = t.copy()
    bad.reshape(-1)[-1] = Cn
    with pytest.raises(ValueError, match=f"class index {Cn} at position {bad.size - 1}"):
        fl.cross_entropy(x, bad)


@pytest.mark.parametrize('C_', range(2, 34))
def test_lean_short_every_C(torch, dtype, C_):
    """Every row length 2..33 (the short-row lean path has a transpose compiled for each
    listed C, a generic one for the others; 33 takes the row path): as test_lean_path with
    a chunk tail (70 rows), plus NaN and -inf logits in ignored and kept rows."""
    F = torch.nn.functional
    rng = np.random.default_rng(C_)
    x = (rng.normal(size=(70, C_)) * 4).astype(dtype)
    t = rng.integers(0, C_, 70)
    t[1::4] = -100
    tol = _tol(dtype)
    for red in REDUCTIONS:
        go = _grad_output(rng, red, x.shape)
        ref_v, ref_g = _torch_value_and_grad(torch, F.cross_entropy, x, (torch.tensor(t),),
                                             {}, red, go)
        v, g = fl.cross_entropy_value_and_grad(x, t, reduction=red, grad_output=go)
        assert_close(v, ref_v, dtype, **tol, what=f'short C={C_} value {red}')
        assert_close(g, ref_g, dtype, **tol, what=f'short C={C_} grad {red}')
        np.testing.assert_array_equal(fl.cross_entropy(x, t, reduction=red), v)
        xi = x.copy()
        fl.cross_entropy_grad(xi, t, reduction=red, grad_output=go, out=xi)
        np.testing.assert_array_equal(xi, g)
    x = rng.normal(size=(70, C_)).astype(dtype)
    t = rng.integers(0, C_, 70)
    t[3] = t[5] = -100
    x[3, 0] = np.nan                      # ignored row with a NaN: loss 0, gradient 0
    x[4, 0] = np.nan                      # kept row with a NaN: nan
    x[6, :] = -np.inf                     # kept row of only -inf: nan
    x[7, (t[7] + 1) % C_] = -np.inf       # a masked non-target class: finite
    v, g = fl.cross_entropy_value_and_grad(x, t, reduction='none')
    assert v[3] == 0 and (g[3] == 0).all() and (g[5] == 0).all()
    assert np.isnan(v[4]) and np.isnan(g[4]).any() and np.isnan(v[6])
    assert np.isfinite(v[7]) and np.isfinite(g[7]).all() and g[7, (t[7] + 1) % C_] == 0
    keep = np.ones(70, bool)
    keep[[4, 6]] = False
    rv, rg = R.cross_entropy_value_and_grad(x[keep], t[keep], reduction='none')
    tol = _tol(dtype)
    assert_close(v[keep], rv, dtype, **tol, what=f'short C={C_} value')
    assert_close(g[keep], rg, dtype, **tol, what=f'short C={C_} grad')


@pytest.mark.parametrize('C_', [65, 127, 129, 136, 200, 300])
def test_long_rows_special_values_in_the_last_classes(dtype, C_):
    """Rows on the one-row-at-a-time path whose length is not a multiple of 16: the row max
    re-reads the last 16 classes (FL_ROW_MAX16).  +inf, -inf and NaN placed in that last
    stretch, the weighted general path on the same rows, and the softmax family."""
    rng = np.random.default_rng(C_)
    n = 12
    x = (rng.normal(size=(n, C_)) * 3).astype(dtype)
    t = rng.integers(0, C_, n)
    x[0, -1] = 40.0                       # the maximum is the last class
    x[1, -3] = np.inf                     # one +inf in the last 16: the limit
    t[1] = C_ - 3
    x[2, -2] = np.nan                     # NaN propagates
    x[3, -16:] = -np.inf                  # masked tail: finite
    x[4, C_ - 17] = 50.0                  # maximum just before the last 16
    v, g = fl.cross_entropy_value_and_grad(x, t, reduction='none')
    assert v[1] == 0 and np.isnan(v[2]) and np.isnan(g[2]).all()
    keep = np.array([i not in (1, 2) for i in range(n)])
    rv, rg = R.cross_entropy_value_and_grad(x[keep], t[keep], reduction='none')
    assert_close(v[keep], rv, dtype, **_tol(dtype), what=f'long C={C_} value')
    assert_close(g[keep], rg, dtype, **_tol(dtype), what=f'long C={C_} grad')
    w = np.ones(C_, dtype)
    gv = fl.cross_entropy(x[keep], t[keep], weight=w, reduction='none')
    assert_close(gv, rv, dtype, **_tol(dtype), what=f'long C={C_} weighted value')
    for name in ('softmax', 'log_softmax'):
        got, ref = getattr(fl, name)(x[keep]), getattr(R, name)(x[keep])
        assert_close(got, ref, dtype, **_tol(dtype), what=f'long C={C_} {name}')


def _xent_long_double(x, t):
    """Per-line loss and gradient (reduction='none', classes on axis 1) in long double, with
    the target's p_t - 1 taken as -(sum - 1)/sum where the target is a maximum (no
    cancellation)."""
    xl = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]).astype(np.longdouble)
    tl = t.reshape(-1)
    d = xl - xl.max(axis=1, keepdims=True)
    e = np.exp(d)
    z = d == 0
    s1 = np.where(z, 0, e).sum(axis=1)
    cnt = z.sum(axis=1)
    total = cnt + s1
    i = np.arange(len(tl))
    loss = np.log1p((cnt - 1) + s1) - d[i, tl]
    g = e / total[:, None]
    g[i, tl] = np.where(d[i, tl] == 0, -((cnt - 1) + s1) / total, g[i, tl] - 1)
    shape = (x.shape[0],) + x.shape[2:] + (x.shape[1],)
    return loss.reshape(t.shape), np.moveaxis(g.reshape(shape), -1, 1)


@pytest.mark.parametrize('C_', [10, 33, 64, 100, 200, 1000])
@pytest.mark.parametrize('path', ['lean', 'weighted', 'strided'])
def test_cross_entropy_within_4_ulp_of_long_double(dtype, C_, path):
    """Per-line losses and gradients within 4 ulp of long double, also for widely spread
    logits, where e^(x_k - m) at the rounded x_k - m was off by up to 45 ulp (float32) and
    62 ulp (float64) in the loss and 66 / 258 ulp in the gradient (tiny values: lines whose
    target wins by a wide margin).  Every kernel path: the lean short-row chunks, long rows,
    the general (weighted) path, classes strided by a trailing axis; maxima beyond 2^20
    (float32) / 2^40 (float64), which take the checked exp, and masked (-inf) classes."""
    from conftest import ulp_error, record_ulp
    rng = np.random.default_rng(C_)
    big = 3e6 if dtype == np.float32 else 3e12
    worst = [0.0, 0.0]
    for scale in (1, 8, 40):
        n = 384 if C_ < 1000 else 48
        shape = (n // 3, C_, 3) if path == 'strided' else (n, C_)
        x = (rng.normal(size=shape) * scale).astype(dtype)
        x[:4] += np.asarray(big, dtype)                  # beyond fl_xent_exp's fast variant
        x[4:8, 1:C_ // 2] = -np.inf
        t = rng.integers(0, C_, shape[:1] + shape[2:])
        t[4:8] = 0
        kw = {'weight': np.ones(C_, dtype)} if path == 'weighted' else {}
        v, g = fl.cross_entropy_value_and_grad(x, t, reduction='none', **kw)
        rv, rg = _xent_long_double(x, t)
        ev = ulp_error(v, rv, dtype)
        eg = ulp_error(g, rg, dtype)
        assert (g[4:8, 1:C_ // 2] == 0).all()               # masked classes
        worst = [max(worst[0], float(ev.max())), max(worst[1], float(eg.max()))]
        where = f'{path} C={C_} scale={scale}'
        assert ev.max() <= 4, f'{where}: loss off by {ev.max():.2f} ulp'
        assert eg.max() <= 4, f'{where}: gradient off by {eg.max():.2f} ulp'
    record_ulp('cross_entropy (per line)', dtype, [worst[0]], [f'C={C_} {path}'])
    record_ulp('cross_entropy_grad', dtype, [worst[1]], [f'C={C_} {path}'])
