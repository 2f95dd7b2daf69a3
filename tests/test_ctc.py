"""CTC loss: values and gradients against PyTorch (float64), the NumPy reference, finite
differences; thread-count determinism; zero_infinity; bad input."""
import numpy as np
import pytest

import fastloss as fl
from fastloss import reference as ref

REDUCTIONS = ('none', 'sum', 'mean')


def log_softmax(x, axis=-1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def min_length(labels):
    """Shortest input that can emit `labels`: one frame each, plus a blank between repeats."""
    labels = list(labels)
    return len(labels) + sum(a == b for a, b in zip(labels, labels[1:]))


def make_case(rng, T=12, N=5, C=6, S=4, blank=0, dtype=np.float64):
    """Random batch covering repeated labels, target length 0, input length exactly the
    minimum, an impossible alignment (input one frame too short) and input length 0."""
    lp = log_softmax(rng.standard_normal((T, N, C)) * 2).astype(dtype)
    labels = [c for c in range(C) if c != blank]
    tg = rng.choice(labels, (N, S))
    tg[0, 1] = tg[0, 0]                          # a repeat
    tl = rng.integers(1, S + 1, N)
    tl[0] = S
    il = rng.integers(T // 2, T + 1, N)
    il[0] = T
    if N > 1:
        tl[1] = 0                                # empty target
    if N > 2:
        il[2] = min_length(tg[2, :tl[2]])        # exactly the minimum
    if N > 3:
        tg[3, :2] = tg[3, 0]
        tl[3] = 2
        il[3] = min_length(tg[3, :2]) - 1        # impossible: inf
    if N > 4:
        il[4] = 0
        tl[4] = 0                                # empty input, empty target: 0
    return lp, tg, il, tl


def torch_ctc(torch, lp, tg, il, tl, reduction, blank=0, zero_infinity=False):
    """(value, grad) from torch autograd in float64."""
    x = torch.tensor(np.asarray(lp, np.float64), requires_grad=True)
    loss = torch.nn.functional.ctc_loss(x, torch.tensor(np.asarray(tg, np.int64)),
                                        torch.tensor(np.asarray(il, np.int64)),
                                        torch.tensor(np.asarray(tl, np.int64)), blank=blank,
                                        reduction=reduction, zero_infinity=zero_infinity)
    loss.backward(torch.ones_like(loss))
    return loss.detach().numpy(), x.grad.numpy()


def concat(tg, tl):
    return np.concatenate([tg[i, :tl[i]] for i in range(len(tl))]).astype(tg.dtype)


def check(got, want, dtype, what):
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, equal_nan=True,
                               err_msg=what, **tol)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('zero_infinity', [False, True])
def test_against_torch(torch, dtype, reduction, zero_infinity):
    rng = np.random.default_rng(1)
    for blank in (0, 3):
        lp, tg, il, tl = make_case(rng, blank=blank, dtype=dtype)
        want_v, want_g = torch_ctc(torch, lp, tg, il, tl, reduction, blank, zero_infinity)
        for targets in (tg, concat(tg, tl)):
            kw = dict(blank=blank, reduction=reduction, zero_infinity=zero_infinity)
            v = fl.ctc_loss(lp, targets, il, tl, **kw)
            g = fl.ctc_loss_grad(lp, targets, il, tl, **kw)
            v2, g2 = fl.ctc_loss_value_and_grad(lp, targets, il, tl, **kw)
            assert np.asarray(v).dtype == dtype and g.dtype == dtype and g.shape == lp.shape
            check(v, want_v, dtype, f'value, blank={blank}')
            check(g, want_g, dtype, f'grad, blank={blank}')
            np.testing.assert_array_equal(v2, v)
            np.testing.assert_array_equal(g2, g)


def test_special_rows(torch):
    """inf for the impossible case (NaN gradient rows, as torch), 0 rows for t >= length."""
    lp, tg, il, tl = make_case(np.random.default_rng(2))
    v, g = fl.ctc_loss_value_and_grad(lp, tg, il, tl, reduction='none')
    assert v[3] == np.inf and v[4] == 0.0
    assert np.isnan(g[:il[3], 3]).all() and (g[il[3]:, 3] == 0).all()
    for n in range(5):
        assert (g[il[n]:, n] == 0).all()
    v, g = fl.ctc_loss_value_and_grad(lp, tg, il, tl, reduction='none', zero_infinity=True)
    assert v[3] == 0.0 and (g[:, 3] == 0).all() and np.isfinite(g).all()


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_unnormalized_and_longer(torch, reduction):
    """log_probs that are not normalized (positive values too), longer sequences."""
    rng = np.random.default_rng(3)
    T, N, C, S = 60, 3, 8, 20
    lp = rng.standard_normal((T, N, C)) + 0.5
    tg = rng.integers(1, C, (N, S))
    il = np.array([60, 55, 41])
    tl = np.array([20, 17, 20])
    want_v, want_g = torch_ctc(torch, lp, tg, il, tl, reduction)
    v, g = fl.ctc_loss_value_and_grad(lp, tg, il, tl, reduction=reduction)
    check(v, want_v, np.float64, 'value')
    check(g, want_g, np.float64, 'grad')


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_unbatched(torch, dtype, reduction):
    rng = np.random.default_rng(4)
    lp = log_softmax(rng.standard_normal((10, 5))).astype(dtype)
    tg = np.array([1, 1, 3])
    want_v, want_g = torch_ctc(torch, lp, tg, 9, 3, reduction)
    for il, tl in ((9, 3), (np.array([9]), np.array([3], np.uint8)), (np.int32(9), (3,))):
        v, g = fl.ctc_loss_value_and_grad(lp, tg, il, tl, reduction=reduction)
        assert np.ndim(v) == 0 and g.shape == lp.shape
        check(v, want_v, dtype, 'value')
        check(g, want_g, dtype, 'grad')


@pytest.mark.parametrize('int_dtype', [np.int32, np.int64, np.uint8, np.int8, np.uint64])
def test_length_and_target_dtypes(torch, int_dtype):
    lp, tg, il, tl = make_case(np.random.default_rng(5))
    want_v, want_g = torch_ctc(torch, lp, tg, il, tl, 'mean')
    v, g = fl.ctc_loss_value_and_grad(lp, tg.astype(int_dtype), il.astype(int_dtype),
                                      tl.astype(int_dtype))
    check(v, want_v, np.float64, 'value')
    check(g, want_g, np.float64, 'grad')
    v = fl.ctc_loss(lp, tg, list(il), tuple(int(t) for t in tl))
    check(v, want_v, np.float64, 'lists')


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_against_reference(dtype, reduction):
    rng = np.random.default_rng(6)
    lp, tg, il, tl = make_case(rng, T=15, N=6, C=5, S=5, dtype=dtype)
    go = rng.standard_normal(6) if reduction == 'none' else 0.7
    for zi in (False, True):
        kw = dict(reduction=reduction, zero_infinity=zi, grad_output=go)
        v, g = fl.ctc_loss_value_and_grad(lp, tg, il, tl, **kw)
        rv, rg = ref.ctc_loss_value_and_grad(lp, tg, il, tl, **kw)
        check(v, rv, dtype, 'value')
        check(g, rg, dtype, 'grad')
        check(ref.ctc_loss(lp, tg, il, tl, reduction=reduction, zero_infinity=zi), rv, dtype, 'ref')
        check(ref.ctc_loss_grad(lp, tg, il, tl, **kw), rg, dtype, 'ref grad')


def test_finite_differences():
    """Through log_softmax the gradient is d loss / d logits; w.r.t. free log_probs it is the
    returned gradient minus exp(log_probs) on t < input_length (PyTorch's convention)."""
    rng = np.random.default_rng(7)
    T, N, C = 7, 2, 4
    z = rng.standard_normal((T, N, C))
    tg, il, tl = np.array([[1, 1, 2], [3, 2, 0]]), np.array([7, 5]), np.array([3, 2])
    h = 1e-5

    def fd(f, x):
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            d = np.zeros_like(x)
            d[i] = h
            g[i] = (f(x + d) - f(x - d)) / (2 * h)
        return g

    for red in ('sum', 'mean'):
        g = fl.ctc_loss_grad(log_softmax(z), tg, il, tl, reduction=red)
        np.testing.assert_allclose(g, fd(lambda x: fl.ctc_loss(log_softmax(x), tg, il, tl,
                                                               reduction=red), z), atol=1e-8)
        lp = log_softmax(z)
        w = 1 / (N * np.maximum(tl, 1)) if red == 'mean' else np.ones(N)
        free = g - np.exp(lp) * (np.arange(T)[:, None] < il)[:, :, None] * w[None, :, None]
        np.testing.assert_allclose(free, fd(lambda x: fl.ctc_loss(x, tg, il, tl, reduction=red),
                                            lp), atol=1e-8)


def test_threads_bitwise(dtype):
    rng = np.random.default_rng(8)
    T, N, C, S = 100, 16, 30, 10
    lp = log_softmax(rng.standard_normal((T, N, C))).astype(dtype)
    tg, il, tl = rng.integers(1, C, (N, S)), rng.integers(60, T + 1, N), rng.integers(0, S + 1, N)
    res = []
    for nt in (1, 2):
        with fl.num_threads(nt):
            res.append(fl.ctc_loss_value_and_grad(lp, tg, il, tl))
    assert res[0][0].tobytes() == res[1][0].tobytes()
    assert res[0][1].tobytes() == res[1][1].tobytes()


def test_python_threads():
    """The kernel releases the GIL; concurrent calls give the same results."""
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(12)
    lp = log_softmax(rng.standard_normal((80, 8, 20)))
    tg, il, tl = rng.integers(1, 20, (8, 10)), np.full(8, 80), np.full(8, 10)
    v, g = fl.ctc_loss_value_and_grad(lp, tg, il, tl)
    with ThreadPoolExecutor(4) as ex:
        for v2, g2 in ex.map(lambda _: fl.ctc_loss_value_and_grad(lp, tg, il, tl), range(8)):
            assert v2 == v and np.array_equal(g2, g)


def test_layouts_and_out():
    rng = np.random.default_rng(9)
    lp, tg, il, tl = make_case(rng, dtype=np.float64)
    v, g = fl.ctc_loss_value_and_grad(lp, tg, il, tl, reduction='sum')
    ro = lp.copy()
    ro.flags.writeable = False
    f = np.asfortranarray(lp)
    big = np.zeros((lp.shape[0], lp.shape[1], 2 * lp.shape[2]))
    big[:, :, ::2] = lp
    for x in (ro, f, big[:, :, ::2], lp.astype('>f8')):
        v2, g2 = fl.ctc_loss_value_and_grad(x, tg, il, tl, reduction='sum')
        assert v2 == v and (np.isnan(g2) == np.isnan(g)).all()
        np.testing.assert_array_equal(g2, g)
    lp_before = lp.copy()
    out = np.empty_like(lp)
    assert fl.ctc_loss_grad(lp, tg, il, tl, reduction='sum', out=out) is out
    np.testing.assert_array_equal(out, g)
    np.testing.assert_array_equal(lp, lp_before)         # inputs untouched
    out = np.empty((lp.shape[2], lp.shape[1], lp.shape[0])).T    # non-contiguous out=
    assert fl.ctc_loss_grad(lp, tg, il, tl, reduction='sum', out=out) is out
    np.testing.assert_array_equal(out, g)
    x = lp.copy()                                        # in place
    assert fl.ctc_loss_grad(x, tg, il, tl, reduction='sum', out=x) is x
    np.testing.assert_array_equal(x, g)
    with pytest.raises(TypeError, match='out'):
        fl.ctc_loss_grad(lp, tg, il, tl, out=np.empty(lp.shape, np.float32))
    with pytest.raises(ValueError, match='out'):
        fl.ctc_loss_grad(lp, tg, il, tl, out=np.empty((1, 2, 3)))


def test_grad_output_none_reduction(torch):
    rng = np.random.default_rng(10)
    lp, tg, il, tl = make_case(rng, N=3)
    go = rng.standard_normal(3)
    x = torch.tensor(lp, requires_grad=True)
    loss = torch.nn.functional.ctc_loss(x, torch.tensor(tg), torch.tensor(il), torch.tensor(tl),
                                        reduction='none')
    loss.backward(torch.tensor(go))
    check(fl.ctc_loss_grad(lp, tg, il, tl, reduction='none', grad_output=go), x.grad.numpy(),
          np.float64, 'grad_output')
    with pytest.raises(ValueError, match='grad_output'):
        fl.ctc_loss_grad(lp, tg, il, tl, reduction='none', grad_output=np.ones(4))


def test_empty_batch_and_T0():
    lp = np.zeros((5, 0, 4))
    assert np.isnan(fl.ctc_loss(lp, np.zeros((0, 2), int), [], [], reduction='mean'))
    assert fl.ctc_loss(lp, np.zeros((0, 2), int), [], [], reduction='sum') == 0
    assert fl.ctc_loss_grad(lp, np.zeros((0, 2), int), [], []).shape == lp.shape
    lp = np.zeros((0, 2, 4))
    v = fl.ctc_loss(lp, np.array([[1], [1]]), [0, 0], [0, 1], reduction='none')
    np.testing.assert_array_equal(v, [0, np.inf])


def test_bad_input():
    lp = log_softmax(np.random.default_rng(11).standard_normal((6, 2, 4)))
    tg, il, tl = np.array([[1, 2], [3, 3]]), np.array([6, 5]), np.array([2, 1])
    cases = [
        (ValueError, 'input_lengths', dict(input_lengths=[6, -1])),
        (ValueError, 'input_lengths', dict(input_lengths=[7, 6])),
        (ValueError, 'input_lengths', dict(input_lengths=[6, 5, 4])),
        (ValueError, 'target_lengths', dict(target_lengths=[-1, 1])),
        (ValueError, 'target_lengths', dict(target_lengths=[3, 1])),
        (ValueError, 'target_lengths', dict(target_lengths=[2])),
        (ValueError, 'target_lengths', dict(targets=np.array([1, 2, 3]), target_lengths=[2, 2])),
        (ValueError, 'blank', dict(targets=np.array([[1, 0], [3, 3]]))),
        (ValueError, 'outside', dict(targets=np.array([[1, 4], [3, 3]]))),
        (ValueError, 'outside', dict(targets=np.array([[1, -1], [3, 3]]))),
        (ValueError, 'blank', dict(blank=4)),
        (ValueError, 'blank', dict(blank=-1)),
        (TypeError, 'blank', dict(blank=1.5)),
        (TypeError, 'targets', dict(targets=tg.astype(float))),
        (TypeError, 'input_lengths', dict(input_lengths=[6.0, 5.0])),
        (ValueError, 'targets', dict(targets=np.ones((3, 2), int))),
        (ValueError, 'log_probs', dict(log_probs=np.zeros((6, 2, 4, 1)))),
        (TypeError, 'log_probs', dict(log_probs=lp.astype(complex))),
        (ValueError, 'reduction', dict(reduction='max')),
    ]
    for exc, word, kw in cases:
        args = dict(log_probs=lp, targets=tg, input_lengths=il, target_lengths=tl)
        args.update(kw)
        for f in (fl.ctc_loss, fl.ctc_loss_grad, ref.ctc_loss):
            with pytest.raises(exc, match=word):
                f(**args)
    # padding beyond target_lengths is never read: any value is fine there
    assert np.isfinite(fl.ctc_loss(lp, np.array([[1, 2], [3, -7]]), il, tl))
