"""NumPy reference for the activations: stable formulas evaluated in long double.

GELU needs erfc, which NumPy lacks: it uses math.erfc (double) with the argument's
rounding corrected to first order, accurate to ~1 ulp of float64 (the test-suite checks
the float64 GELU kernel against mpmath directly)."""
import math

import numpy as np

from .. import _validate as V
from ._common import L, prepare, other, result, grad_times

_ERRS = dict(all='ignore')


def _e(x, scale=1):
    return np.exp(-scale * np.abs(x))


def identity(x):
    x, dt = prepare(x)
    return result(x, dt)


def identity_grad(x, grad_output=None):
    x, dt = prepare(x)
    return result(grad_times(np.ones_like(x), grad_output, dt, x.shape), dt)


def sigmoid(x):
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        e = _e(x)
        return result(np.where(x >= 0, 1 / (1 + e), e / (1 + e)), dt)


def sigmoid_grad(x, grad_output=None):
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        e = _e(x)
        return result(grad_times(e / (1 + e) ** 2, grad_output, dt, x.shape), dt)


def tanh(x):
    x, dt = prepare(x)
    return result(np.tanh(x), dt)


def tanh_grad(x, grad_output=None):
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        e = _e(x, 2)
        return result(grad_times(4 * e / (1 + e) ** 2, grad_output, dt, x.shape), dt)


def relu(x):
    x, dt = prepare(x)
    return result(np.where(x > 0, x, np.where(np.isnan(x), x, 0)), dt)


def relu_grad(x, grad_output=None):
    x, dt = prepare(x)
    d = np.where(x > 0, 1, np.where(np.isnan(x), x, 0))
    return result(grad_times(d, grad_output, dt, x.shape), dt)


def _slope(v, dt):
    return L(dt.type(V.param(v, 'parameter')))


def leaky_relu(x, negative_slope=0.01):
    x, dt = prepare(x)
    return result(np.where(x > 0, x, _slope(negative_slope, dt) * x), dt)


def leaky_relu_grad(x, grad_output=None, *, negative_slope=0.01):
    x, dt = prepare(x)
    d = np.where(x > 0, 1, np.where(np.isnan(x), x, _slope(negative_slope, dt)))
    return result(grad_times(d, grad_output, dt, x.shape), dt)


def elu(x, alpha=1.0):
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        return result(np.where(x > 0, x, _slope(alpha, dt) * np.expm1(np.minimum(x, 0))), dt)


def elu_grad(x, grad_output=None, *, alpha=1.0):
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        d = np.where(x > 0, 1, _slope(alpha, dt) * np.exp(np.minimum(x, 0)))
        return result(grad_times(np.where(np.isnan(x), x, d), grad_output, dt, x.shape), dt)


def _softplus_parts(x, beta, threshold, dt):
    b = _slope(beta, dt)
    linear = (dt.type(b) * x.astype(dt)) > dt.type(threshold)   # PyTorch's test, in dtype
    return b, b * x, linear


def softplus(x, beta=1.0, threshold=20.0):
    x, dt = prepare(x)
    b, bx, linear = _softplus_parts(x, beta, threshold, dt)
    with np.errstate(**_ERRS):
        sp = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / b
        return result(np.where(linear, x, sp), dt)


def softplus_grad(x, grad_output=None, *, beta=1.0, threshold=20.0):
    x, dt = prepare(x)
    b, bx, linear = _softplus_parts(x, beta, threshold, dt)
    with np.errstate(**_ERRS):
        e = _e(bx)
        d = np.where(linear, 1, np.where(bx >= 0, 1 / (1 + e), e / (1 + e)))
        return result(grad_times(np.where(np.isnan(x), x, d), grad_output, dt, x.shape), dt)


def log_sigmoid(x):
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        return result(np.minimum(x, 0) - np.log1p(_e(x)), dt)


def log_sigmoid_grad(x, grad_output=None):
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        e = _e(x)
        return result(grad_times(np.where(x >= 0, e / (1 + e), 1 / (1 + e)), grad_output,
                                 dt, x.shape), dt)


def silu(x):
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        e = _e(x)
        s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return result(np.where(x == -np.inf, -0.0, x * s), dt)


def silu_grad(x, grad_output=None):
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        e = _e(x)
        s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        d = s + np.where(np.isinf(x), 0, x * e / (1 + e) ** 2)
        return result(grad_times(d, grad_output, dt, x.shape), dt)


_PI = L('3.14159265358979323846264338327950288')    # np.pi is only a double
_RS2 = 1 / np.sqrt(L(2))
_RS2PI = 1 / np.sqrt(2 * _PI)
_C1 = 2 * np.sqrt(2 / _PI)
_C3 = _C1 * L('0.044715')


def _erfc(z):
    """erfc of a long double array: math.erfc at the double nearest z, corrected to first
    order for the difference dz: erfc(z) = erfc(zd) - 2/sqrt(pi) exp(-zd^2) dz."""
    zd = z.astype(np.float64)
    dz = z - zd
    base = np.asarray(np.frompyfunc(math.erfc, 1, 1)(zd)).astype(L)   # 0-d gives a float
    with np.errstate(**_ERRS):
        corr = 2 / np.sqrt(_PI) * np.exp(-zd.astype(L) ** 2) * dz
    return np.where(np.isfinite(z), base - np.where(np.isfinite(corr), corr, 0), base)


def _gelu_tanh_v(x):
    return x * (_C1 + _C3 * x * x)


def gelu(x, approximate='none'):
    V.choice(approximate, 'approximate', ('none', 'tanh'))
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        if approximate == 'tanh':
            v = _gelu_tanh_v(x)
            e = _e(v)
            y = x * np.where(v >= 0, 1 / (1 + e), e / (1 + e))
        else:
            y = x / 2 * _erfc(-x * _RS2)
        return result(np.where(x == -np.inf, -0.0, y), dt)


def gelu_grad(x, grad_output=None, *, approximate='none'):
    V.choice(approximate, 'approximate', ('none', 'tanh'))
    x, dt = prepare(x)
    with np.errstate(**_ERRS):
        if approximate == 'tanh':
            v = _gelu_tanh_v(x)
            e = _e(v)
            s = np.where(v >= 0, 1 / (1 + e), e / (1 + e))
            d = s + np.where(np.isinf(x), 0, x * (_C1 + 3 * _C3 * x * x) * e / (1 + e) ** 2)
        else:
            d = _erfc(-x * _RS2) / 2 + np.where(np.isinf(x), 0, x * _RS2PI * np.exp(-x * x / 2))
        return result(grad_times(d, grad_output, dt, x.shape), dt)


def _prelu_view(x, weight, dt):
    w = other(weight, dt, 'weight')
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.ndim != 1 or w.shape[0] not in (1, channels):
        raise ValueError(f"weight must have shape (1,) or ({channels},); got {w.shape}")
    shape = [1] * x.ndim
    if x.ndim >= 2:
        shape[1] = w.shape[0]
    return w.reshape(shape) if w.shape[0] > 1 else w.reshape(()), w.shape


def prelu(x, weight):
    x, dt = prepare(x)
    w, _ = _prelu_view(x, weight, dt)
    return result(np.where(x > 0, x, w * x), dt)


def prelu_grad(x, weight, grad_output=None):
    x, dt = prepare(x)
    w, wshape = _prelu_view(x, weight, dt)
    g = np.ones_like(x) if grad_output is None else other(grad_output, dt, 'grad_output', x.shape)
    gx = np.where(x > 0, g, w * g)
    contrib = np.where(x > 0, 0, x * g)
    if wshape[0] > 1:
        axes = tuple(i for i in range(x.ndim) if i != 1)
        gw = contrib.sum(axis=axes)
    else:
        gw = contrib.sum().reshape(1)
    return result(gx, dt), np.asarray(gw).astype(dt).reshape(wshape)


def _softmax_parts(x, axis):
    """(d, sum_others, count_max, bad): d = x - max (0 at the max), sums in long double."""
    if x.ndim == 0:
        V.normalize_axis(axis, 1)
        x = x.reshape(1)
        axis = 0
    ax = V.normalize_axis(axis, x.ndim)
    with np.errstate(**_ERRS):
        m = np.max(x, axis=ax, keepdims=True) if x.shape[ax] else np.zeros_like(x)
        d = np.where(x == m, 0, x - m)
        e = np.exp(d)
        others = np.sum(np.where(d == 0, 0, e), axis=ax, keepdims=True)
        cnt = np.sum(d == 0, axis=ax, keepdims=True)
        bad = (m == -np.inf) | np.isnan(m) | np.any(np.isnan(x), axis=ax, keepdims=True)
    return x, ax, d, e, others, cnt, bad


def softmax(x, axis=-1):
    x0, dt = prepare(x)
    x, ax, d, e, others, cnt, bad = _softmax_parts(x0, axis)
    y = np.where(bad, np.nan, e / (cnt + others))
    return result(y.reshape(x0.shape), dt)


def log_softmax(x, axis=-1):
    x0, dt = prepare(x)
    x, ax, d, e, others, cnt, bad = _softmax_parts(x0, axis)
    y = np.where(bad, np.nan, d - np.log1p(cnt - 1 + others))
    return result(y.reshape(x0.shape), dt)


def softmax_grad(x, grad_output, axis=-1):
    x0, dt = prepare(x)
    g = other(grad_output, dt, 'grad_output', x0.shape).reshape(x0.shape or (1,))
    x, ax, d, e, others, cnt, bad = _softmax_parts(x0, axis)
    y = np.where(bad, np.nan, e / (cnt + others))
    out = y * (g - np.sum(g * y, axis=ax, keepdims=True))
    return result(out.reshape(x0.shape), dt)


def log_softmax_grad(x, grad_output, axis=-1):
    x0, dt = prepare(x)
    g = other(grad_output, dt, 'grad_output', x0.shape).reshape(x0.shape or (1,))
    x, ax, d, e, others, cnt, bad = _softmax_parts(x0, axis)
    y = np.where(bad, np.nan, e / (cnt + others))
    out = g - y * np.sum(g, axis=ax, keepdims=True)
    return result(out.reshape(x0.shape), dt)
