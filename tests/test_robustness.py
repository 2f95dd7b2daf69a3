"""Issue 5: never crash, never silently wrong.

* bad input -> TypeError/ValueError naming the argument, the expected and the actual value;
* kernel-side checks report the first bad element without an extra pass over the data;
* nothing but out= is ever written (inputs snapshotted around every call, error paths too);
* unusual but valid inputs simply work: read-only, memmap 'r', frombuffer, strided,
  transposed, Fortran, non-native byte order, 0-d, scalars, lists, bool/int/float16, empty
  arrays, NaN and +-inf (no warnings).
"""
import re
import tracemalloc
import warnings

import numpy as np
import pytest

import fastloss as fl
from _cases import ALL, CLASS, POINTWISE, SIGN, make, pointwise_data, unreduced_shape

rng0 = np.random.default_rng(0)
X = np.array([0.2, 0.4, 0.6, 0.8])
T = np.array([0.0, 1.0, 1.0, 0.0])
L = np.random.default_rng(1).standard_normal((3, 5))
LP = np.log(np.full((5, 2, 4), 0.25))
TG = np.array([[1, 2], [1, 1]])


def _ctc(**kw):
    a = dict(log_probs=LP, targets=TG, input_lengths=[5, 5], target_lengths=[2, 2])
    a.update(kw)
    return lambda: fl.ctc_loss(**a)


# (id, call, exception, patterns that must all appear in the message)
BAD = [
    # shapes
    ('shape N1 vs N', lambda: fl.mse_loss(np.zeros((4, 1)), np.zeros(4)), ValueError,
     ['target', r'\(4,\)', r'\(4, 1\)']),
    ('shape target len', lambda: fl.l1_loss(X, T[:3]), ValueError, ['target', r'\(3,\)', r'\(4,\)']),
    ('shape weight', lambda: fl.binary_cross_entropy(X, T, weight=np.ones(3)), ValueError,
     ['weight', r'\(3,\)', r'\(4,\)']),
    ('shape pos_weight', lambda: fl.binary_cross_entropy_with_logits(X, T, pos_weight=np.ones(3)),
     ValueError, ['pos_weight', r'\(3,\)']),
    ('shape class weight', lambda: fl.cross_entropy(L, [0, 1, 2], weight=np.ones(4)), ValueError,
     ['weight', r'\(5,\)', r'\(4,\)']),
    ('shape class target', lambda: fl.cross_entropy(L, [0, 1]), ValueError,
     ['target', r'\(3,\)', r'\(2,\)']),
    ('shape grad_output none', lambda: fl.mse_loss_grad(X, T, 'none', grad_output=np.ones(3)),
     ValueError, ['grad_output', r'\(4,\)', r'\(3,\)']),
    ('shape grad_output mean', lambda: fl.mse_loss_grad(X, T, grad_output=np.ones(3)),
     ValueError, ['grad_output', 'scalar', r'\(3,\)']),
    ('shape grad_output xent', lambda: fl.cross_entropy_grad(L, [0, 1, 2], grad_output=np.ones(3)),
     ValueError, ['grad_output', r'\(3,\)']),
    ('prelu weight size', lambda: fl.prelu(np.ones((2, 3)), np.ones(2)), ValueError,
     ['weight', r'\(3,\)', r'\(2,\)']),
    ('axis xent', lambda: fl.cross_entropy(L, [0, 1, 2], axis=5), ValueError, ['axis', '5']),
    ('axis xent huge', lambda: fl.cross_entropy(L, [0, 1, 2], axis=2**70), ValueError,
     ['axis', str(2**70)]),
    ('axis cce', lambda: fl.categorical_cross_entropy(L, L, axis=-3), ValueError, ['axis', '-3']),
    ('axis softmax', lambda: fl.softmax(L, axis=2), ValueError, ['axis', '2']),
    ('axis float', lambda: fl.cross_entropy(L, [0, 1, 2], axis=1.0), TypeError, ['axis', 'float']),
    ('ctc log_probs 1-D', lambda: fl.ctc_loss(LP[0, 0], [1], 1, 1), ValueError,
     ['log_probs', r'\(4,\)']),
    # dtypes
    ('complex input', lambda: fl.mse_loss(X.astype(complex), T), TypeError, ['input', 'complex128']),
    ('object input', lambda: fl.mse_loss(X.astype(object), T), TypeError, ['input', 'object']),
    ('str input', lambda: fl.l1_loss(['a', 'b'], [1, 2]), TypeError, ['input', '<U1']),
    ('complex target', lambda: fl.mse_loss(X, T.astype(complex)), TypeError, ['target', 'complex']),
    ('complex weight', lambda: fl.binary_cross_entropy(X, T, weight=np.ones(4, complex)),
     TypeError, ['weight', 'complex']),
    ('complex grad_output', lambda: fl.mse_loss_grad(X, T, grad_output=np.array(1 + 1j)),
     TypeError, ['grad_output', 'complex']),
    ('str grad_output', lambda: fl.mse_loss_grad(X, T, grad_output='x'), TypeError,
     ['grad_output']),
    ('complex grad_output xent', lambda: fl.cross_entropy_grad(L, [0, 1, 2], grad_output=1j),
     TypeError, ['grad_output', 'complex']),
    ('complex grad_output ctc', lambda: fl.ctc_loss_grad(LP, TG, [5, 5], [2, 2],
                                                         grad_output=np.ones(1, complex)),
     TypeError, ['grad_output', 'complex']),
    ('float class index', lambda: fl.cross_entropy(L, np.array([0., 1, 2])), TypeError,
     ['target', 'integer', 'float64']),
    ('bool class index', lambda: fl.nll_loss(L, np.array([True, False, True])), TypeError,
     ['target', 'bool']),
    ('str class index', lambda: fl.cross_entropy(L, ['a', 'b', 'c']), TypeError, ['target']),
    ('complex logits', lambda: fl.cross_entropy(L.astype(complex), [0, 1, 2]), TypeError,
     ['input', 'complex']),
    ('complex log_probs', lambda: fl.ctc_loss(LP.astype(complex), TG, [5, 5], [2, 2]),
     TypeError, ['log_probs', 'complex']),
    ('float targets ctc', _ctc(targets=TG.astype(float)), TypeError, ['targets', 'float64']),
    ('float lengths ctc', _ctc(input_lengths=[5.0, 5.0]), TypeError, ['input_lengths', 'float64']),
    ('complex activation', lambda: fl.sigmoid(np.ones(3, complex)), TypeError, ['x', 'complex']),
    ('str delta', lambda: fl.huber_loss(X, T, delta='a'), TypeError, ['delta', 'str']),
    ('str label_smoothing', lambda: fl.cross_entropy(L, [0, 1, 2], label_smoothing='a'),
     TypeError, ['label_smoothing', 'str']),
    ('str eps cce', lambda: fl.categorical_cross_entropy(L, L, eps='a'), TypeError,
     ['eps', 'str']),
    ('float ignore_index', lambda: fl.cross_entropy(L, [0, 1, 2], ignore_index=1.5), TypeError,
     ['ignore_index', 'float']),
    ('None ignore_index', lambda: fl.nll_loss(L, [0, 1, 2], ignore_index=None), TypeError,
     ['ignore_index']),
    ('float blank', _ctc(blank=1.0), TypeError, ['blank', 'float']),
    # values
    ('class index >= C', lambda: fl.cross_entropy(L, [0, 5, 1]), ValueError,
     ['target', r'\b5\b', 'position 1', r'\[0, 5\)']),
    ('class index negative', lambda: fl.nll_loss(L, [0, 1, -1]), ValueError,
     ['target', '-1', 'position 2']),
    ('class index 2**40', lambda: fl.cross_entropy(L, np.array([2**40, 0, 1])), ValueError,
     ['target', str(2**40), 'position 0']),
    ('class index uint64 huge', lambda: fl.cross_entropy(L, np.array([0, 1, 2**64 - 1], np.uint64)),
     ValueError, ['target', str(2**64 - 1), 'position 2']),
    ('class index int8 >= C', lambda: fl.cross_entropy(L, np.array([0, 1, 7], np.int8)),
     ValueError, ['target', r'\b7\b', 'position 2']),
    ('class index N-d position', lambda: fl.cross_entropy(np.zeros((2, 3, 2)),
                                                          np.array([[0, 1], [2, 3]])),
     ValueError, ['target', r'\b3\b', 'position 3']),
    ('ignore_index huge', lambda: fl.cross_entropy(L, [0, 1, 2], ignore_index=2**70), ValueError,
     ['ignore_index', str(2**70)]),
    ('bce above 1', lambda: fl.binary_cross_entropy(np.array([0.5, 1.5, 2.0]), T[:3]), ValueError,
     ['input', r'\[0, 1\]', '1.5', 'position 1']),
    ('bce below 0', lambda: fl.binary_cross_entropy_grad(np.array([0.5, 0.1, -0.25]), T[:3]),
     ValueError, ['input', '-0.25', 'position 2']),
    ('bce -inf', lambda: fl.binary_cross_entropy(np.array([-np.inf, 0.5]), T[:2]), ValueError,
     ['input', '-inf', 'position 0']),
    ('hinge 0/1 target', lambda: fl.hinge_loss(X, T), ValueError,
     ['target', '-1 or \\+1', '0.0', 'position 0', '2\\*target-1']),
    ('squared hinge target', lambda: fl.squared_hinge_loss(X, [1, -1, 2, 1]), ValueError,
     ['target', '2.0', 'position 2']),
    ('exponential target', lambda: fl.exponential_loss_value_and_grad(X, [1, -1, 1, 0.5]),
     ValueError, ['target', '0.5', 'position 3']),
    ('label_smoothing > 1', lambda: fl.cross_entropy(L, [0, 1, 2], label_smoothing=1.5),
     ValueError, ['label_smoothing', r'\[0, 1\]', '1.5']),
    ('label_smoothing < 0', lambda: fl.cross_entropy(L, [0, 1, 2], label_smoothing=-0.1),
     ValueError, ['label_smoothing', '-0.1']),
    ('label_smoothing nan', lambda: fl.cross_entropy(L, [0, 1, 2], label_smoothing=np.nan),
     ValueError, ['label_smoothing', 'nan']),
    ('delta <= 0', lambda: fl.huber_loss(X, T, delta=0), ValueError, ['delta', '0']),
    ('beta < 0', lambda: fl.smooth_l1_loss(X, T, beta=-1), ValueError, ['beta', '-1']),
    ('ctc input_length < 0', _ctc(input_lengths=[5, -1]), ValueError,
     [r'input_lengths\[1\]', '-1', r'\[0, 5\]']),
    ('ctc input_length > T', _ctc(input_lengths=[6, 5]), ValueError,
     [r'input_lengths\[0\]', '6', r'\[0, 5\]']),
    ('ctc target_length < 0', _ctc(target_lengths=[2, -3]), ValueError,
     [r'target_lengths\[1\]', '-3']),
    ('ctc target_length > S', _ctc(target_lengths=[3, 2]), ValueError,
     [r'target_lengths\[0\]', '3', r'\[0, 2\]']),
    ('ctc lengths count', _ctc(input_lengths=[5, 5, 5]), ValueError, ['input_lengths', '2', r'\(3,\)']),
    ('ctc concat too long', _ctc(targets=np.array([1, 2, 1]), target_lengths=[2, 2]), ValueError,
     ['target_lengths', '4', '3']),
    ('ctc label >= C', _ctc(targets=np.array([[1, 9], [1, 1]])), ValueError,
     ['targets', '9', r'\(0, 1\)']),
    ('ctc label 2**40', _ctc(targets=np.array([[1, 1], [2**40, 1]])), ValueError,
     ['targets', str(2**40), r'\(1, 0\)']),
    ('ctc label = blank', _ctc(targets=np.array([[1, 0], [1, 1]])), ValueError,
     ['targets', 'blank']),
    ('ctc blank out of range', _ctc(blank=4), ValueError, ['blank', '4']),
    # out=
    ('out shape', lambda: fl.mse_loss_grad(X, T, out=np.zeros(5)), ValueError,
     ['out', r'\(4,\)', r'\(5,\)']),
    ('out dtype', lambda: fl.mse_loss_grad(X, T, out=np.zeros(4, np.float32)), TypeError,
     ['out', 'float64', 'float32']),
    ('out read-only', lambda: fl.mse_loss_grad(X, T, out=np.zeros(4).copy().view()
                                               if False else _ro(np.zeros(4))),
     ValueError, ['out', 'read-only']),
    ('out list', lambda: fl.l1_loss_grad(X, T, out=[0.0] * 4), TypeError, ['out', 'list']),
    ('out xent shape', lambda: fl.cross_entropy_grad(L, [0, 1, 2], out=np.zeros(3)), ValueError,
     ['out', r'\(3, 5\)', r'\(3,\)']),
    ('out xent read-only', lambda: fl.cross_entropy_grad(L, [0, 1, 2], out=_ro(np.zeros((3, 5)))),
     ValueError, ['out', 'read-only']),
    ('out ctc dtype', lambda: fl.ctc_loss_grad(LP, TG, [5, 5], [2, 2],
                                               out=np.zeros(LP.shape, np.float32)),
     TypeError, ['out', 'float64', 'float32']),
    ('out activation read-only', lambda: fl.sigmoid(X, out=_ro(np.zeros(4))), ValueError,
     ['out', 'read-only']),
    # reduction
    ('reduction typo', lambda: fl.mse_loss(X, T, reduction='avg'), ValueError,
     ['reduction', "'mean'", "'sum'", "'none'", "'avg'"]),
    ('reduction None', lambda: fl.cross_entropy(L, [0, 1, 2], reduction=None), ValueError,
     ['reduction', 'None']),
    ('reduction array', lambda: fl.mse_loss(X, T, reduction=np.array(['mean', 'sum'])),
     ValueError, ['reduction', "'mean'"]),
    ('reduction array xent', lambda: fl.nll_loss(L, [0, 1, 2], reduction=np.array(['mean', 'x'])),
     ValueError, ['reduction', "'mean'"]),
    ('reduction batchmean not kl', lambda: fl.mse_loss(X, T, reduction='batchmean'), ValueError,
     ['reduction', 'batchmean']),
    ('reduction ctc', _ctc(reduction='total'), ValueError, ['reduction', "'total'"]),
]


def _ro(a):
    a.setflags(write=False)
    return a


@pytest.mark.parametrize('call, exc, patterns', [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_names_the_argument(call, exc, patterns):
    with pytest.raises(exc) as info:
        call()
    assert type(info.value) in (TypeError, ValueError)
    msg = str(info.value)
    for p in patterns:
        assert re.search(p, msg), f"{p!r} not in {msg!r}"


@pytest.mark.parametrize('name', ALL)
@pytest.mark.parametrize('reduction', ['avg', None, 1, ('mean',), b'mean'])
def test_bad_reduction_every_loss(name, reduction):
    args, kw = make(name, np.random.default_rng(0))
    for suffix in ('', '_grad', '_value_and_grad'):
        with pytest.raises(ValueError, match='reduction'):
            getattr(fl, name + suffix)(*args, **kw, reduction=reduction)


# ---- kernel-side checks: the first bad element, no extra pass ----------------------------

@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('case', ['bce', 'hinge'])
def test_first_bad_element_without_extra_pass(case, threads):
    """The kernel returns the first flagged index itself: the error path allocates nothing
    of the input's size (a NumPy search would allocate n-byte masks) and reports the first
    bad element even when several threads each saw one."""
    n = 2_000_003
    x = np.full(n, 0.5, np.float32)
    t = np.ones(n, np.float32)
    first, later = 1_500_001, 1_999_999        # in the second half (the second thread's)
    if case == 'bce':
        x[[first, later]] = [1.25, -3.0]
        fn, what, val = fl.binary_cross_entropy, 'input', '1.25'
    else:
        t[[first, later]] = [0.0, 3.0]
        fn, what, val = fl.hinge_loss, 'target', '0.0'
    t[later - 10] = t[later - 10]
    with fl.num_threads(threads):
        fn(x[:1000], t[:1000])               # warm up
        tracemalloc.start()
        try:
            with pytest.raises(ValueError) as info:
                fn(x, t, reduction='sum')
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    msg = str(info.value)
    assert what in msg and val in msg and f'position {first}' in msg, msg
    assert peak < n // 8, f"error path allocated {peak} bytes for {n} elements"
    # a bad element in the first half wins over one in the second
    x2, t2 = x.copy(), t.copy()
    if case == 'bce':
        x2[7] = 2.0
    else:
        t2[7] = 2.0
    with fl.num_threads(threads), pytest.raises(ValueError, match='position 7 '):
        fn(x2, t2)


def test_class_index_position_large():
    n, C = 300_000, 3
    x = np.zeros((n, C), np.float32)
    t = np.zeros(n, np.int64)
    t[[123_457, 200_000]] = [3, -5]
    with pytest.raises(ValueError, match=r'class index 3 at position 123457 '):
        fl.cross_entropy(x, t)


# ---- nothing but out= is written -------------------------------------------------------

def _snapshot(objs):
    return [(o, o.copy()) for o in objs if isinstance(o, np.ndarray)]


def _unchanged(snap, what):
    for o, c in snap:
        np.testing.assert_array_equal(o, c, err_msg=f"{what}: an input was modified")


def _calls(name, rng, dtype):
    """(args, kwargs) variants for fl.<name>: valid ones and invalid ones (error paths)."""
    args, kw = make(name, rng, dtype)
    out = [(args, kw)]
    x = args[0]
    if name in POINTWISE:
        bad_t = args[1].copy()
        bad_t[1] = 0.5 if name in SIGN else bad_t[1]
        out.append(((x, bad_t), kw))
        if name == 'binary_cross_entropy':
            bad_x = x.copy()
            bad_x[2] = 7
            out.append(((bad_x, args[1]), kw))
            out.append(((x, args[1]), dict(weight=np.linspace(0, 1, x.size).astype(dtype))))
        if name == 'binary_cross_entropy_with_logits':
            out.append(((x, args[1]), dict(weight=np.ones(x.size, dtype),
                                          pos_weight=np.full(x.size, 2, dtype))))
        out.append(((x, args[1][:-1]), kw))              # wrong shape
    elif name in ('cross_entropy', 'nll_loss'):
        bad_t = args[1].copy()
        bad_t[-1] = 99
        out.append(((x, bad_t), kw))
        out.append(((x, args[1]), dict(weight=np.arange(1, 6).astype(dtype), ignore_index=1)))
        if name == 'cross_entropy':
            soft = np.full(x.shape, 0.2, dtype)
            out.append(((x, soft), dict(label_smoothing=0.1)))
            out.append(((x, args[1]), dict(label_smoothing=2.0)))
    elif name == 'categorical_cross_entropy':
        out.append(((x, args[1][:, :-1]), kw))
    else:
        lp, tg, il, tl = args
        bad = tg.copy()
        bad[0, 0] = 0
        out.append(((lp, bad, il, tl), kw))
        out.append(((lp, tg, il + 1, tl), kw))
    return out


@pytest.mark.parametrize('name', ALL)
def test_inputs_never_written(name, dtype):
    rng = np.random.default_rng(3)
    for args, kw in _calls(name, rng, dtype):
        for reduction in ('mean', 'sum', 'none'):
            for suffix in ('', '_grad', '_value_and_grad'):
                extra = {}
                if suffix and reduction == 'none':
                    extra['grad_output'] = np.full(unreduced_shape(name, args), 0.5, dtype)
                elif suffix:
                    extra['grad_output'] = 2.0
                snap = _snapshot(list(args) + list(kw.values()) + list(extra.values()))
                fn = getattr(fl, name + suffix)
                try:
                    fn(*args, **kw, **extra, reduction=reduction)
                except (TypeError, ValueError):
                    pass
                _unchanged(snap, f"{name}{suffix} {reduction}")
                if suffix:                              # with out=: only out changes
                    o = np.full(np.shape(args[0]), -7, dtype)
                    try:
                        r = fn(*args, **kw, **extra, reduction=reduction, out=o)
                        g = r if suffix == '_grad' else r[1]
                        assert g is o
                    except (TypeError, ValueError):
                        pass
                    _unchanged(snap, f"{name}{suffix} {reduction} out=")


@pytest.mark.parametrize('name', POINTWISE + ('cross_entropy', 'categorical_cross_entropy'))
def test_out_partially_overlapping_an_input(name):
    """out= a view of the input's buffer shifted by some elements: same result as a fresh
    output (the kernel must not read input values it has already overwritten)."""
    rng = np.random.default_rng(5)
    args, kw = make(name, rng, np.float64, n=40)
    x, t = args[0], args[1]
    want = getattr(fl, name + '_grad')(x, t, **kw, reduction='sum')
    shift = x.shape[-1] if x.ndim == 2 else 3
    for which in (0, 1):
        if which == 1 and np.asarray(t).dtype.kind != 'f':
            continue
        src = (x, t)[which]
        buf = np.empty(src.size + 2 * shift, src.dtype)
        for off in (0, 2 * shift):                  # out before / after the input in memory
            view_in = buf[shift:shift + src.size].reshape(src.shape)
            view_out = buf[off:off + src.size].reshape(src.shape)
            view_in[...] = src
            a = [x, t]
            a[which] = view_in
            got = getattr(fl, name + '_grad')(*a, **kw, reduction='sum', out=view_out)
            assert got is view_out
            np.testing.assert_array_equal(got, want, err_msg=f"which={which} off={off}")


def test_out_may_be_the_input():
    x = np.linspace(-2, 2, 11)
    t = np.linspace(1, -1, 11)
    want = fl.mse_loss_grad(x, t, reduction='none')
    got = fl.mse_loss_grad(x, t, reduction='none', out=x)
    assert got is x
    np.testing.assert_array_equal(x, want)


# ---- inputs that must simply work ------------------------------------------------------

def _variants(a, tmp_path, tag):
    """Equal-valued arrays of other layouts: read-only, memmap 'r', frombuffer, strided,
    Fortran, transposed back, non-native byte order."""
    a = np.ascontiguousarray(a)
    ro = a.copy()
    ro.setflags(write=False)
    yield 'readonly', ro
    f = tmp_path / f'{tag}.bin'
    a.tofile(f)
    yield 'memmap', np.memmap(f, dtype=a.dtype, mode='r', shape=a.shape)
    yield 'frombuffer', np.frombuffer(a.tobytes(), dtype=a.dtype).reshape(a.shape)
    big = np.zeros(a.shape + (3,), a.dtype)
    big[..., 1] = a
    yield 'strided', big[..., 1]
    yield 'fortran', np.asfortranarray(a)
    yield 'transposed', np.ascontiguousarray(a.T).T
    yield 'byteswapped', a.astype(a.dtype.newbyteorder())
    if a.ndim:
        rev = np.ascontiguousarray(a[::-1])
        yield 'negative stride', rev[::-1]


def _results(name, args, kw):
    out = {}
    for red in ('none', 'sum', 'mean'):
        out[red] = getattr(fl, name + '_value_and_grad')(*args, **kw, reduction=red)
    return out


@pytest.mark.parametrize('name', ALL)
def test_layouts_give_identical_results(name, dtype, tmp_path):
    rng = np.random.default_rng(7)
    args, kw = make(name, rng, dtype, n=12)
    want = _results(name, args, kw)
    positions = [0, 1] if name != 'ctc_loss' else [0, 1, 2, 3]
    for pos in positions:
        for tag, v in _variants(args[pos], tmp_path, f'a{pos}'):
            a = list(args)
            a[pos] = v
            got = _results(name, a, kw)
            for red in want:
                for g, w in zip(got[red], want[red]):
                    assert np.asarray(g).dtype == np.asarray(w).dtype, (tag, pos, red)
                    np.testing.assert_array_equal(g, w, err_msg=f"{name} arg {pos} {tag} {red}")


@pytest.mark.parametrize('name', POINTWISE)
def test_pointwise_0d_scalars_lists(name):
    rng = np.random.default_rng(11)
    x, t = pointwise_data(name, rng, (3,), np.float64)
    want = getattr(fl, name)(x, t, reduction='none')
    for i in range(3):
        v0 = getattr(fl, name)(x[i], t[i], reduction='none')          # NumPy scalars
        assert np.asarray(v0).shape == ()
        assert float(v0) == want[i]
        v1 = getattr(fl, name)(float(x[i]), float(t[i]), reduction='mean')  # Python floats
        assert type(v1) is np.float64 and v1 == want[i]
        v2 = getattr(fl, name)(np.array(x[i]), np.array(t[i]), reduction='sum')
        assert v2 == want[i]
        g = getattr(fl, name + '_grad')(float(x[i]), float(t[i]), reduction='none')
        assert np.shape(g) == ()
    got = getattr(fl, name)(x.tolist(), t.tolist(), reduction='none')
    np.testing.assert_array_equal(got, want)


def test_class_losses_1d_and_lists():
    x = np.array([1.0, 2.0, 0.5])
    v = fl.cross_entropy(x.tolist(), 1)
    assert type(v) is np.float64
    np.testing.assert_allclose(v, fl.cross_entropy(x[None], [1]))
    assert np.shape(fl.cross_entropy(x, np.int8(2), reduction='none')) == ()
    np.testing.assert_allclose(fl.nll_loss([[-1.0, -2.0]], [1]), 2.0)
    np.testing.assert_allclose(fl.categorical_cross_entropy([0.2, 0.8], [0, 1]),
                               -np.log(0.8), rtol=1e-12)


@pytest.mark.parametrize('src, want', [
    (np.bool_, np.float64), (np.int8, np.float64), (np.uint16, np.float64),
    (np.int64, np.float64), (np.uint64, np.float64), (np.float16, np.float32),
    (np.float32, np.float32), (np.float64, np.float64)])
@pytest.mark.parametrize('name', ['mse_loss', 'l1_loss', 'hinge_loss', 'poisson_nll_loss',
                                  'binary_cross_entropy', 'kl_div'])
def test_dtype_rule(name, src, want):
    x = np.array([0, 1, 1, 0]).astype(src)
    t = np.array([1, 1, -1, 1]) if name == 'hinge_loss' else np.array([0, 1, 1, 0])
    v = getattr(fl, name)(x, t)
    assert type(v) is np.dtype(want).type
    g = getattr(fl, name + '_grad')(x, t, reduction='none')
    assert g.dtype == want
    np.testing.assert_allclose(v, getattr(fl, name)(x.astype(want), t.astype(want)),
                               rtol=1e-6)


def test_class_index_dtypes():
    x = np.random.default_rng(0).standard_normal((4, 6))
    t = np.array([0, 5, 3, 1])
    want = fl.cross_entropy(x, t)
    for dt in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.uint64,
               np.dtype('>i8'), np.dtype('<i2')):
        assert fl.cross_entropy(x, t.astype(dt)) == want
        assert fl.nll_loss(x, t.astype(dt)) == fl.nll_loss(x, t)


@pytest.mark.parametrize('name', ALL)
def test_empty_inputs(name, dtype):
    rng = np.random.default_rng(0)
    args, kw = make(name, rng, dtype)
    if name in POINTWISE:
        args = (args[0][:0], args[1][:0])
    elif name in ('cross_entropy', 'nll_loss', 'categorical_cross_entropy'):
        args = (args[0][:0], args[1][:0])
    else:
        lp, tg, il, tl = args
        args = (lp[:, :0], tg[:0], il[:0], tl[:0])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        m = getattr(fl, name)(*args, **kw)
        s = getattr(fl, name)(*args, **kw, reduction='sum')
        n = getattr(fl, name)(*args, **kw, reduction='none')
        g = getattr(fl, name + '_grad')(*args, **kw)
        vm, gm = getattr(fl, name + '_value_and_grad')(*args, **kw, reduction='sum')
    assert type(m) is np.dtype(dtype).type and np.isnan(m)
    assert type(s) is np.dtype(dtype).type and s == 0
    assert n.size == 0 and n.dtype == dtype and n.shape == unreduced_shape(name, args)
    assert g.shape == np.shape(args[0]) and g.dtype == dtype
    assert vm == 0 and gm.shape == np.shape(args[0])


@pytest.mark.parametrize('name', POINTWISE)
def test_nan_propagates(name, dtype):
    rng = np.random.default_rng(2)
    x, t = pointwise_data(name, rng, (50,), dtype)
    x[17] = np.nan
    with warnings.catch_warnings(), np.errstate(all='raise'):
        warnings.simplefilter('error')
        v = getattr(fl, name)(x, t, reduction='none')
        m = getattr(fl, name)(x, t)
        g = getattr(fl, name + '_grad')(x, t, reduction='none')
    assert np.isnan(v[17]) and np.isnan(m)
    assert np.isnan(g[17]) or name == 'kl_div'          # kl_div's gradient -t ignores x
    assert np.isfinite(np.delete(v, 17)).all()


@pytest.mark.parametrize('name', ('cross_entropy', 'nll_loss', 'categorical_cross_entropy'))
def test_nan_propagates_class(name, dtype):
    args, kw = make(name, np.random.default_rng(2), dtype)
    x = args[0].copy()
    x[2, 1] = np.nan
    with warnings.catch_warnings(), np.errstate(all='raise'):
        warnings.simplefilter('error')
        v = getattr(fl, name)(x, args[1], reduction='none')
        m = getattr(fl, name)(x, args[1])
    if name == 'nll_loss':
        assert np.isnan(v[2]) == (args[1][2] == 1)
    else:
        assert np.isnan(v[2]) and np.isnan(m)
    assert np.isfinite(np.delete(v, 2)).all()


INF_CASES = [
    # (name, x, t, expected pointwise loss)
    ('mse_loss', np.inf, 0.0, np.inf), ('l1_loss', -np.inf, 1.0, np.inf),
    ('huber_loss', np.inf, 0.0, np.inf), ('smooth_l1_loss', -np.inf, 0.0, np.inf),
    ('binary_cross_entropy_with_logits', -np.inf, 0.0, 0.0),
    ('binary_cross_entropy_with_logits', np.inf, 1.0, 0.0),
    ('binary_cross_entropy_with_logits', np.inf, 0.0, np.inf),
    ('binary_cross_entropy_with_logits', -np.inf, 1.0, np.inf),
    ('binary_cross_entropy', 0.0, 1.0, 100.0), ('binary_cross_entropy', 1.0, 1.0, 0.0),
    ('binary_cross_entropy', 0.0, 0.0, 0.0),
    ('hinge_loss', np.inf, 1.0, 0.0), ('hinge_loss', -np.inf, 1.0, np.inf),
    ('squared_hinge_loss', np.inf, 1.0, 0.0), ('exponential_loss', np.inf, 1.0, 0.0),
    ('exponential_loss', -np.inf, 1.0, np.inf), ('exponential_loss', 1000.0, -1.0, np.inf),
    ('poisson_nll_loss', -np.inf, 0.0, 0.0), ('poisson_nll_loss', np.inf, 0.0, np.inf),
    ('poisson_nll_loss', 1000.0, 0.0, np.inf),
    ('kl_div', -np.inf, 0.0, 0.0), ('kl_div', np.inf, 0.5, -np.inf),
]


@pytest.mark.parametrize('name, x, t, want', INF_CASES)
def test_inf_limits_without_warnings(name, x, t, want, dtype):
    xs = np.array([x, 0.5], dtype)
    ts = np.array([t, 1.0], dtype)
    with warnings.catch_warnings(), np.errstate(all='raise'):
        warnings.simplefilter('error')
        v = getattr(fl, name)(xs, ts, reduction='none')
        getattr(fl, name + '_value_and_grad')(xs, ts)
    if np.isinf(want):
        assert v[0] == want
    else:
        np.testing.assert_allclose(v[0], want, atol=1e-6)


def test_xent_inf_logits():
    with warnings.catch_warnings(), np.errstate(all='raise'):
        warnings.simplefilter('error')
        x = np.array([[np.inf, 0.0, -np.inf], [1.0, -np.inf, 2.0]])
        v = fl.cross_entropy(x, [0, 2], reduction='none')
        assert v[0] == 0 and np.isfinite(v[1])
        assert fl.cross_entropy(x, [1, 0], reduction='none')[0] == np.inf
        g = fl.cross_entropy_grad(np.array([[1.0, -np.inf, 2.0]]), [0])
        assert np.isfinite(g).all() and g[0, 1] == 0


def test_finite_extremes_no_warnings(dtype):
    fi = np.finfo(dtype)
    x = np.array([fi.max, -fi.max, fi.tiny, -fi.tiny, fi.smallest_subnormal, 0, 1e30, -1e30],
                 dtype)
    with warnings.catch_warnings(), np.errstate(all='raise'):
        warnings.simplefilter('error')
        for name in POINTWISE:
            t = np.sign(x) + (x == 0) if name in SIGN else np.clip(np.abs(x), 0, 1)
            xi = np.clip(np.abs(x), 0, 1) if name == 'binary_cross_entropy' else x
            getattr(fl, name + '_value_and_grad')(xi, t.astype(dtype), reduction='none')
        fl.cross_entropy_value_and_grad(x.reshape(2, 4), [0, 3])
        fl.log_softmax(x.reshape(2, 4))
