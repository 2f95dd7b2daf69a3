"""The AVX-512 gather transposes of the short-row paths (fl_gather.h) against the portable
transposes: softmax family and cross-entropy, short rows of 1..128 classes, full and partial chunks
of 64 rows, special values, in place.  Pure data movement: the results must agree bit for
bit.  (On a CPU without AVX-512 both runs take the portable path and agree trivially.)"""
import numpy as np
import pytest

import fastloss as fl
from fastloss._kernels import _activations, _xent

CS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 16, 17, 20, 24, 31, 32, 33, 47, 64, 100, 128]
ROWS = [64, 128, 64 * 3 + 17, 5]
SOFTMAX_MODES = ('softmax', 'log_softmax', 'softmax_grad', 'log_softmax_grad')


def _both(fn):
    """fn() with the gathers allowed and without them (restored afterwards)."""
    olds = (_activations._use_gathers(True), _xent._use_gathers(True))
    try:
        on = fn()
        _activations._use_gathers(False)
        _xent._use_gathers(False)
        off = fn()
    finally:
        _activations._use_gathers(olds[0])
        _xent._use_gathers(olds[1])
    return on, off


def _same(a, b):
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    a, b = np.atleast_1d(np.asarray(a)), np.atleast_1d(np.asarray(b))
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
        a.view(np.uint8), b.view(np.uint8))          # bits, also of NaN and -0


def _logits(rng, n, C, dtype):
    x = (rng.standard_normal((n, C)) * 4).astype(dtype)
    if n >= 64:                                        # special values in some lanes
        x[3, 0] = np.inf
        x[9, C - 1] = -np.inf
        x[17, C // 2] = np.nan
        x[40, :] = -np.inf
        x[50, :] = 2.0
        x[63, -1] = 1e30
    return x


@pytest.mark.parametrize('C', CS)
def test_softmax_family_gathers_agree_bitwise(C, dtype):
    rng = np.random.default_rng(C)
    for n in ROWS:
        x = _logits(rng, n, C, dtype)
        g = rng.standard_normal((n, C)).astype(dtype)
        for mode in SOFTMAX_MODES:
            f = getattr(fl, mode)
            call = (lambda: f(x, g)) if mode.endswith('_grad') else (lambda: f(x))
            on, off = _both(call)
            assert _same(on, off), (mode, n)

        def in_place():
            y = x.copy()
            fl.softmax(y, out=y)
            return y
        on, off = _both(in_place)
        assert _same(on, off), n


@pytest.mark.parametrize('C', CS)
def test_cross_entropy_gathers_agree_bitwise(C, dtype):
    rng = np.random.default_rng(100 + C)
    for n in ROWS:
        x = _logits(rng, n, C, dtype)
        t = rng.integers(0, C, n)
        t[::7] = -100                                  # ignored lines
        go = rng.standard_normal(n).astype(dtype)
        calls = {
            'value mean': lambda: fl.cross_entropy(x, t),
            'value none': lambda: fl.cross_entropy(x, t, reduction='none'),
            'grad sum': lambda: fl.cross_entropy_grad(x, t, reduction='sum'),
            'both none': lambda: fl.cross_entropy_value_and_grad(x, t, reduction='none',
                                                                 grad_output=go),
            'both mean': lambda: fl.cross_entropy_value_and_grad(x, t),
        }
        for what, call in calls.items():
            on, off = _both(call)
            assert _same(on, off), (what, n)
