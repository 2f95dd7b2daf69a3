"""The softmax family's kernel paths (fl_axis_tmpl.h): short rows transposed in chunks of 64
rows with SIMD across the rows (rows of at most 512 bytes: 128 floats, 64 doubles, classes
last), long rows SIMD along the row, and
classes strided by `inner` (not the last axis).  Each path against the reference, the paths
against each other, special values, and bitwise independence of where a row lands (chunk
boundaries and thread splits)."""
import hashlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastloss as fl
from fastloss import reference as R
from conftest import assert_close, ulp_error

MODES = ('softmax', 'log_softmax', 'softmax_grad', 'log_softmax_grad')
# every length with its own transpose (1..16, 20, 24, 32), some without, both sides of the
# short-row limit (64 doubles, 128 floats), and long rows
SHORT_CS = list(range(1, 17)) + [17, 20, 24, 31, 32, 33, 47, 64]
LONG_CS = [65, 100, 128, 129, 257]
ROWS = [1, 63, 64, 65, 130, 200]       # not all multiples of the chunk of 64 rows


def _call(name, x, g, axis=-1):
    f = getattr(fl, name)
    return f(x, g, axis) if name.endswith('_grad') else f(x, axis)


def _ref(name, x, g, axis=-1):
    f = getattr(R, name)
    return f(x, g, axis) if name.endswith('_grad') else f(x, axis)


def _check(name, got, x, g, axis, dtype, what):
    ref = _ref(name, x, g, axis)
    if not name.endswith('_grad'):
        assert_close(got, ref, dtype, ulps=4, what=what)
        return
    # the grads subtract a dot product: error relative to the size of the terms of each line
    ref = np.asarray(ref, np.float64)
    y = np.asarray(R.softmax(x, axis), np.float64)
    g64 = np.asarray(g, np.float64)
    if name == 'softmax_grad':
        terms = y * (np.abs(g64) + np.sum(np.abs(g64 * y), axis=axis, keepdims=True))
    else:
        terms = np.abs(g64) + y * np.sum(np.abs(g64), axis=axis, keepdims=True)
    # (y_k is subnormal where the terms are that small: only its absolute error counts)
    fi = np.finfo(dtype)
    err = np.abs(np.asarray(got, np.float64) - ref) / np.maximum(terms, float(fi.smallest_normal))
    assert err.max() <= 8 * fi.eps, f"{what}: {err.max() / fi.eps:.1f} eps"


def _data(rng, shape, dtype, scale=4.0):
    return ((rng.standard_normal(shape) * scale).astype(dtype),
            rng.standard_normal(shape).astype(dtype))


@pytest.mark.parametrize('C', SHORT_CS + LONG_CS)
@pytest.mark.parametrize('name', MODES)
def test_rows_match_reference(name, C, dtype):
    rng = np.random.default_rng(C)
    for n in ROWS:
        for scale in (1.0, 30.0):
            x, g = _data(rng, (n, C), dtype, scale)
            _check(name, _call(name, x, g), x, g, -1, dtype, f'{name} {n}x{C} scale {scale}')


@pytest.mark.parametrize('C', [1, 2, 7, 10, 16, 17, 32, 33, 300])
@pytest.mark.parametrize('name', MODES)
def test_strided_matches_reference(name, C, dtype):
    """classes on a middle or first axis: groups of up to 64 neighbouring lines"""
    rng = np.random.default_rng(100 + C)
    for shape, axis in (((3, C, 70), 1), ((C, 130), 0), ((2, C, 5), 1)):
        x, g = _data(rng, shape, dtype)
        _check(name, _call(name, x, g, axis), x, g, axis, dtype, f'{name} {shape} axis {axis}')


@pytest.mark.parametrize('C', [1, 3, 10, 17, 32])
@pytest.mark.parametrize('name', MODES)
def test_short_and_strided_paths_agree_bitwise(name, C, dtype):
    """The transposed short-row path and the strided path run the same lane kernel."""
    rng = np.random.default_rng(7)
    x, g = _data(rng, (150, C), dtype)
    a = _call(name, x, g)
    b = _call(name, np.ascontiguousarray(x.T), np.ascontiguousarray(g.T), 0).T
    assert np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize('C', [2, 10, 32])
@pytest.mark.parametrize('name', MODES)
def test_short_rows_agree_with_the_long_row_path(name, C, dtype):
    """A row padded with -inf logits (weight 0) to 130 classes takes the long-row path."""
    rng = np.random.default_rng(8)
    x, g = _data(rng, (100, C), dtype)
    xp = np.full((100, 130), -np.inf, dtype)
    gp = np.zeros((100, 130), dtype)
    xp[:, :C], gp[:, :C] = x, g
    short = _call(name, x, g)
    long_ = _call(name, xp, gp)
    if name == 'log_softmax':
        assert np.all(long_[:, C:] == -np.inf)
    elif name != 'log_softmax_grad':
        assert np.all(long_[:, C:] == 0)
    long_ = long_[:, :C]
    if name.endswith('_grad'):
        np.testing.assert_allclose(short, long_, rtol=0, atol=8 * np.finfo(dtype).eps
                                   * np.abs(long_).max())
    else:
        assert ulp_error(short, long_, dtype).max() <= 2


@pytest.mark.parametrize('C', [1, 2, 5, 10, 16, 32, 33, 1000])
@pytest.mark.parametrize('name', MODES)
def test_a_row_does_not_depend_on_its_lane(name, C, dtype):
    """Dropping the first s rows moves every row to another lane of its chunk (and the last
    chunk's padding): the results must not change by a bit."""
    rng = np.random.default_rng(9)
    x, g = _data(rng, (200, C), dtype)
    full = _call(name, x, g)
    for s in (1, 5, 63, 64, 100, 199):
        assert np.array_equal(_call(name, x[s:], g[s:]), full[s:], equal_nan=True), s
    # the same for classes on axis 1 of (2, C, inner): groups of lines start elsewhere
    x3, g3 = _data(rng, (2, C, 150), dtype)
    full3 = _call(name, x3, g3, 1)
    for s in (1, 37, 64, 148):            # (inner stays > 1: the same path)
        got = _call(name, np.ascontiguousarray(x3[:, :, s:]), np.ascontiguousarray(g3[:, :, s:]), 1)
        assert np.array_equal(got, full3[:, :, s:], equal_nan=True), s


def _special_rows(C, dtype):
    """Rows with +-inf and NaN in various places, padded with finite logits."""
    rng = np.random.default_rng(C)
    rows = []
    for pos in sorted({0, C // 2, C - 1}):
        for v in (np.inf, -np.inf, np.nan):
            r = rng.standard_normal(C) * 3
            r[pos] = v
            rows.append(r)
    r = rng.standard_normal(C)
    r[::2] = np.inf                         # several +inf: equal shares
    rows.append(r)
    rows.append(np.full(C, -np.inf))        # no limit: NaN
    r = np.full(C, -np.inf)
    r[C // 2] = 1.5                         # everything else masked: [0.., 1, 0..]
    rows.append(r)
    rows.append(np.full(C, 2.0))            # ties
    r = rng.standard_normal(C)
    r[-1] = 1e30                            # one huge logit: the others underflow to 0
    rows.append(r)
    return np.array(rows, dtype)


@pytest.mark.parametrize('C', [1, 2, 3, 10, 17, 32, 33, 100])
def test_special_values(C, dtype):
    x = _special_rows(C, dtype)
    x = np.concatenate([x] * 9)             # several chunks, values in every lane
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    for name in MODES:
        for axis in (-1, 0):
            xa, ga = (x, g) if axis == -1 else (np.ascontiguousarray(x.T), np.ascontiguousarray(g.T))
            got = _call(name, xa, ga, axis)
            ref = np.asarray(_ref(name, xa, ga, axis))
            assert np.array_equal(np.isnan(got), np.isnan(ref)), (name, axis)
            fin = ~np.isnan(ref)
            if name.endswith('_grad'):
                np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-5, atol=1e-6)
            else:
                assert ulp_error(got[fin], ref[fin], dtype).max() <= 4, (name, axis)
                assert np.array_equal(got[fin] == 0, ref[fin] == 0), (name, axis)
                assert np.array_equal(np.isinf(got[fin]), np.isinf(ref[fin])), (name, axis)


def test_masked_log_softmax_is_exact():
    """log_softmax of [a, -inf, ...] is exactly [0, -inf, ...], for long masks too."""
    for dtype in (np.float32, np.float64):
        for C in (2, 10, 32, 33, 5000):
            x = np.full((3, C), -np.inf, dtype)
            x[:, 1] = 0.25
            y = fl.log_softmax(x)
            assert np.all(y[:, 1] == 0) and np.all(np.delete(y, 1, axis=1) == -np.inf)
            assert np.all(fl.softmax(x)[:, 1] == 1)


def test_tiny_probabilities_are_rounded_once():
    """softmax values in the subnormal range: within 1 ulp (of the subnormal spacing)."""
    for dtype, d in ((np.float32, np.arange(-103.0, -86.0, 0.37)),
                     (np.float64, np.arange(-744.0, -707.0, 0.73))):
        for C in (len(d) // 4, len(d)):
            x = np.zeros((2, C + 1), dtype)
            x[:, 1:] = d[:C]
            assert_close(fl.softmax(x), R.softmax(x), dtype, ulps=1, what=str(dtype))


def _digest(arrs):
    h = hashlib.sha256()
    for a in arrs:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


_JOBS = '''
import numpy as np, fastloss as fl
def jobs():
    rng = np.random.default_rng(5)
    out = []
    for dt in (np.float32, np.float64):
        for shape, axis in (((7777, 13), -1), ((3001, 40), -1), ((12003, 10), -1),
                            ((40, 13, 300), 1), ((70, 1500), 0)):
            x = (rng.standard_normal(shape) * 5).astype(dt)
            g = rng.standard_normal(shape).astype(dt)
            out += [fl.softmax(x, axis), fl.log_softmax(x, axis),
                    fl.softmax_grad(x, g, axis), fl.log_softmax_grad(x, g, axis)]
    return out
'''


def test_thread_counts_give_the_same_bits():
    """1, 2 and 3 threads (the last two in subprocesses with OMP_NUM_THREADS) give the same
    bits: the sizes here all go parallel."""
    ns = {}
    exec(_JOBS, ns)
    with fl.num_threads(1):
        one = _digest(ns['jobs']())
    two = _digest(ns['jobs']()) if fl.get_num_threads() >= 2 else one
    assert two == one
    code = textwrap.dedent(_JOBS) + textwrap.dedent('''
        import hashlib
        h = hashlib.sha256()
        for a in jobs():
            h.update(np.ascontiguousarray(a).tobytes())
        print(fl.get_num_threads(), h.hexdigest())
    ''')
    for n in (2, 3):
        env = dict(os.environ, OMP_NUM_THREADS=str(n))
        r = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        nt, digest = r.stdout.split()
        assert int(nt) == n and digest == one, (n, nt)
