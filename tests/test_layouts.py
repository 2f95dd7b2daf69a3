"""Layouts, out= and threads for the activations: every layout gives the contiguous result,
only out= is written, and results are identical for 1, 2 and 3 threads."""
import numpy as np
import pytest

import fastloss as fl

UNARY = ['sigmoid', 'tanh', 'relu', 'leaky_relu', 'elu', 'softplus', 'log_sigmoid', 'silu',
         'gelu', 'identity']


def layouts(base):
    """(label, array) views of `base` (2-D) in many layouts, all equal to base as values."""
    yield 'c', base
    yield 'fortran', np.asfortranarray(base)
    yield 'transposed', np.ascontiguousarray(base.T).T
    big = np.zeros((base.shape[0] * 2, base.shape[1] * 3), base.dtype)
    big[::2, ::3] = base
    yield 'strided', big[::2, ::3]
    ro = base.copy()
    ro.flags.writeable = False
    yield 'readonly', ro
    yield 'bigendian', base.astype(base.dtype.newbyteorder('>'))
    yield 'frombuffer', np.frombuffer(base.tobytes(), base.dtype).reshape(base.shape)
    raw = np.zeros(base.size * base.itemsize + 1, np.uint8)
    unaligned = raw[1:].view(base.dtype).reshape(base.shape)
    unaligned[...] = base
    yield 'unaligned', unaligned


@pytest.mark.parametrize('name', UNARY)
def test_every_layout_gives_the_contiguous_result(name, dtype, tmp_path):
    base = np.random.default_rng(0).standard_normal((13, 7)).astype(dtype) * 5
    f, fg = getattr(fl, name), getattr(fl, name + '_grad')
    want, want_g = f(base), fg(base, base)
    cases = list(layouts(base))
    mm = np.memmap(tmp_path / 'x.bin', dtype=dtype, mode='w+', shape=base.shape)
    mm[...] = base
    mm.flush()
    cases.append(('memmap', np.memmap(tmp_path / 'x.bin', dtype=dtype, mode='r', shape=base.shape)))
    for label, x in cases:
        before = x.copy()
        got = f(x)
        assert got.dtype == dtype, label
        np.testing.assert_array_equal(got, want, err_msg=label)
        np.testing.assert_array_equal(fg(x, x), want_g, err_msg=label)
        np.testing.assert_array_equal(x, before, err_msg=label)


@pytest.mark.parametrize('name', ['tanh', 'relu', 'softplus'])
def test_any_offset_into_a_cache_line(name, dtype):
    """The elements before y's first 64-byte boundary run on their own: every start offset
    and length around the cut gives the values of one contiguous call, in any thread count."""
    f, fg = getattr(fl, name), getattr(fl, name + '_grad')
    x = np.random.default_rng(5).standard_normal(70_000).astype(dtype) * 4
    want = f(x)
    for off in range(0, 64 // x.itemsize + 1):
        for n in (1023 - off, 1024, 1040, 70_000 - off):
            for threads in (1, 2):
                with fl.num_threads(threads):
                    xs, gs = x[off:off + n], x[::-1][off:off + n].copy()
                    np.testing.assert_array_equal(f(xs), want[off:off + n])
                    out = np.empty(n + 1, dtype)[1:]          # out= on another alignment
                    np.testing.assert_array_equal(f(xs, out=out), want[off:off + n])
                    np.testing.assert_array_equal(fg(xs, gs), fg(xs.copy(), gs))


@pytest.mark.parametrize('name', ['softmax', 'log_softmax'])
@pytest.mark.parametrize('axis', [0, 1])
def test_softmax_layouts(name, axis, dtype):
    base = np.random.default_rng(1).standard_normal((13, 7)).astype(dtype)
    want = getattr(fl, name)(base, axis)
    for label, x in layouts(base):
        np.testing.assert_array_equal(getattr(fl, name)(x, axis), want, err_msg=label)
        np.testing.assert_array_equal(getattr(fl, name + '_grad')(x, x, axis),
                                      getattr(fl, name + '_grad')(base, base, axis), err_msg=label)


def test_dtype_rule():
    assert fl.sigmoid(np.arange(3)).dtype == np.float64
    assert fl.sigmoid(np.array([True, False])).dtype == np.float64
    assert fl.sigmoid([1, 2.5]).dtype == np.float64
    assert fl.sigmoid(np.ones(3, np.float16)).dtype == np.float32
    assert fl.sigmoid(np.ones(3, np.uint64)).dtype == np.float64
    # grad_output follows x's dtype, whatever its own
    assert fl.sigmoid_grad(np.ones(3, np.float32), np.ones(3, np.float64)).dtype == np.float32
    assert fl.tanh(3).dtype == np.float64 and np.ndim(fl.tanh(3)) == 0


@pytest.mark.parametrize('bad', [np.ones(3, complex), np.array(['a', 'b']),
                                 np.array([object(), object()]), 'abc', [[1, 2], [3]]])
def test_non_real_input_is_a_type_error(bad):
    with pytest.raises(TypeError, match='x'):
        fl.sigmoid(bad)


def test_empty_and_zero_d():
    for shape in [(0,), (3, 0), (0, 4, 5)]:
        x = np.zeros(shape, np.float32)
        assert fl.tanh(x).shape == shape and fl.tanh_grad(x, x).shape == shape
    assert fl.sigmoid(np.float64(0.0)) == 0.5


# ---- out= --------------------------------------------------------------------------------

def test_out_is_filled_and_returned(dtype):
    x = np.linspace(-3, 3, 101).astype(dtype)
    out = np.empty_like(x)
    assert fl.sigmoid(x, out=out) is out
    np.testing.assert_array_equal(out, fl.sigmoid(x))
    g = np.ones_like(x)
    assert fl.sigmoid_grad(x, g, out=out) is out
    np.testing.assert_array_equal(out, fl.sigmoid_grad(x, g))


def test_out_in_place(dtype):
    x = np.linspace(-3, 3, 101).astype(dtype)
    want = fl.softplus(x, 2.0)
    y = x.copy()
    assert fl.softplus(y, 2.0, out=y) is y
    np.testing.assert_array_equal(y, want)
    g = np.full_like(x, 0.5)
    want_g = fl.tanh_grad(x, g)
    assert fl.tanh_grad(x, g, out=g) is g                # out aliasing grad_output
    np.testing.assert_array_equal(g, want_g)
    z = np.random.default_rng(2).standard_normal((5, 6)).astype(dtype)
    gz = np.random.default_rng(3).standard_normal((5, 6)).astype(dtype)
    for name in ('softmax_grad', 'log_softmax_grad'):
        want_s = getattr(fl, name)(z, gz, 1)
        g2 = gz.copy()
        getattr(fl, name)(z, g2, 1, out=g2)
        np.testing.assert_array_equal(g2, want_s, err_msg=name)
    z2 = z.copy()
    fl.log_softmax(z2, 0, out=z2)
    np.testing.assert_array_equal(z2, fl.log_softmax(z, 0))


def test_out_strided_view(dtype):
    x = np.linspace(-3, 3, 50).astype(dtype)
    buf = np.zeros(100, dtype)
    out = buf[::2]
    assert fl.relu(x, out=out) is out
    np.testing.assert_array_equal(buf[::2], fl.relu(x))
    assert np.all(buf[1::2] == 0)


@pytest.mark.parametrize('bad,exc,match', [
    (np.empty(5), ValueError, 'shape'),
    (np.empty((10,), np.float32), TypeError, 'dtype'),
    ([0.0] * 10, TypeError, 'ndarray'),
])
def test_bad_out(bad, exc, match):
    with pytest.raises(exc, match=match):
        fl.sigmoid(np.zeros(10), out=bad)


def test_read_only_out():
    out = np.empty(10)
    out.flags.writeable = False
    with pytest.raises(ValueError, match='read-only'):
        fl.sigmoid(np.zeros(10), out=out)


def test_parameter_errors():
    with pytest.raises(ValueError, match='approximate'):
        fl.gelu(np.zeros(3), approximate='erf')
    with pytest.raises(ValueError, match='beta'):
        fl.softplus(np.zeros(3), beta=0)
    with pytest.raises(TypeError, match='negative_slope'):
        fl.leaky_relu(np.zeros(3), negative_slope='x')
    with pytest.raises(ValueError, match='axis'):
        fl.softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match='grad_output.*shape'):
        fl.sigmoid_grad(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r'weight.*\(3,\)'):
        fl.prelu(np.zeros((2, 3)), np.ones(2))


# ---- threads ----------------------------------------------------------------------------

def test_results_identical_for_1_2_3_threads(dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(1_000_003) * 10).astype(dtype)
    z = rng.standard_normal((3001, 101)).astype(dtype)
    w = np.full(101, 0.2, dtype)
    results = []
    for n in (1, 2, 3):
        with fl.num_threads(n):
            results.append([fl.sigmoid(x), fl.gelu_grad(x, x), fl.softplus(x), fl.silu(x),
                            fl.relu(x), fl.softmax(z, 1), fl.log_softmax(z, 0),
                            fl.softmax_grad(z, z, 1), *fl.prelu_grad(z, w, z)])
    for r in results[1:]:
        for a, b in zip(results[0], r):
            np.testing.assert_array_equal(a, b)
