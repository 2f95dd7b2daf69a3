"""NumPy reference for the cross-entropy family, in long double, from the stable formulas:
-log p_k = L - (x_k - m), m = max x, L = log sum exp(x - m); gradients of the per-sample loss
sum_k c_k (-log p_k) are A softmax(x) - c with A = sum_k c_k.  Same names, signatures and
semantics as fastloss (see fastloss._class_losses), without out=."""
import numpy as np

from .. import _validate as V
from ._common import L, prepare, result

_ERRS = dict(all='ignore')


def _class_axis(x, axis, fixed_1d=True):
    if x.ndim == 0:
        raise ValueError("input must have at least 1 dimension (a class axis), got a 0-d array")
    return 0 if (x.ndim == 1 and fixed_1d) else V.normalize_axis(axis, x.ndim)


def _log_softmax(x):
    """along the last axis; one +inf logit gives its limit"""
    with np.errstate(**_ERRS):
        m = x.max(axis=-1, keepdims=True) if x.shape[-1] else np.zeros(x.shape[:-1] + (1,), L)
        m = np.where(np.isnan(m), -np.inf, m)
        d = np.where(x == m, 0, x - m)
        s = np.exp(d).sum(axis=-1, keepdims=True)
        return d - np.log(s)


def _targets(x, dt, target, weight, ax, soft, ignore_index):
    """(coefficients c (..., C) with the class axis last, mask of non-ignored samples,
    mean divisor, is_index)"""
    t, is_index, w = V.class_targets(np.empty(x.shape, dt), target, weight, ax, soft)
    C = x.shape[ax]
    w = np.ones(C, L) if w is None else w.astype(L)
    if is_index:
        ign = int(ignore_index)
        mask = t != ign
        bad = np.flatnonzero(mask & ((t < 0) | (t >= C)))
        if bad.size:
            raise ValueError(f"target: class index {t.flat[bad[0]]} at position {bad[0]} is "
                             f"out of range [0, {C}) and is not ignore_index ({ign})")
        tc = np.where(mask, t, 0)
        onehot = (tc[..., None] == np.arange(C)).astype(L)
        return onehot * w * mask[..., None], mask, (w[tc] * mask).sum(), True
    if int(ignore_index) >= 0 and soft:
        raise ValueError(f"ignore_index={ignore_index} is not supported with class-probability "
                         "targets (PyTorch's rule); leave it at -100")
    return np.moveaxis(t.astype(L), ax, -1) * w, None, np.prod(t.shape) // max(C, 1), False


def _reduce(loss, code, denom, dt):
    with np.errstate(**_ERRS):
        if code == 1:
            return result(loss.sum() / L(denom) if denom else L(np.nan), dt)
        if code == 2:
            return result(loss.sum(), dt)
    return result(loss, dt)


def _scale(code, denom, grad_output, dt, shape):
    """per-sample gradient factor, shape `shape` (broadcastable)"""
    if code == 0:
        if grad_output is None:
            return L(1)
        return V.as_dtype(grad_output, dt, 'grad_output').astype(L).reshape(shape)
    g = L(1) if grad_output is None else L(float(np.asarray(grad_output, np.float64)))
    with np.errstate(**_ERRS):
        return g / L(denom) if code == 1 else g


def _xent(input, target, weight, ignore_index, label_smoothing, axis, reduction, grad_output,
          want):
    x, dt = prepare(input, 'input')
    ax = _class_axis(x, axis)
    code = V.reduction_code(reduction)
    ls = float(label_smoothing)
    if not 0.0 <= ls <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    c, mask, denom, is_index = _targets(x, dt, target, weight, ax, True, ignore_index)
    C = x.shape[ax]
    xl = np.moveaxis(x, ax, -1)
    logp = _log_softmax(xl)
    w = np.ones(C, L) if weight is None else V.as_dtype(weight, dt, 'weight').astype(L)
    with np.errstate(**_ERRS):
        if is_index:
            c = (1 - ls) * c + (ls / C) * w * mask[..., None]
        else:
            c = (1 - ls) * c + (ls / C) * w
        loss = np.where(c == 0, 0, -c * logp).sum(axis=-1)
        out = []
        if want != 1:
            out.append(_reduce(loss, code, denom, dt))
        if want != 0:
            s = _scale(code, denom, grad_output, dt, loss.shape)
            g = (c.sum(axis=-1, keepdims=True) * np.exp(logp) - c) * np.asarray(s)[..., None]
            if is_index:
                g = np.where(mask[..., None], g, 0)
            out.append(result(np.moveaxis(g, -1, ax), dt))
    return out[0] if len(out) == 1 else tuple(out)


def cross_entropy(input, target, weight=None, ignore_index=-100, label_smoothing=0.0, axis=1,
                  reduction='mean'):
    """PyTorch's cross_entropy (class indices or probabilities, weight, ignore_index,
    label_smoothing), from log-softmax in long double."""
    return _xent(input, target, weight, ignore_index, label_smoothing, axis, reduction, None, 0)


def cross_entropy_grad(input, target, weight=None, ignore_index=-100, label_smoothing=0.0,
                       axis=1, reduction='mean', grad_output=None):
    """(A softmax - c) times the gradient factor; 0 at ignored positions."""
    return _xent(input, target, weight, ignore_index, label_smoothing, axis, reduction,
                 grad_output, 1)


def cross_entropy_value_and_grad(input, target, weight=None, ignore_index=-100,
                                 label_smoothing=0.0, axis=1, reduction='mean',
                                 grad_output=None):
    return _xent(input, target, weight, ignore_index, label_smoothing, axis, reduction,
                 grad_output, 2)


def _nll(input, target, weight, ignore_index, reduction, grad_output, want):
    x, dt = prepare(input, 'input')
    ax = _class_axis(x, 1)
    code = V.reduction_code(reduction)
    c, mask, denom, _ = _targets(x, dt, target, weight, ax, False, ignore_index)
    xl = np.moveaxis(x, ax, -1)
    with np.errstate(**_ERRS):
        loss = np.where(c == 0, 0, -c * xl).sum(axis=-1)
        out = []
        if want != 1:
            out.append(_reduce(loss, code, denom, dt))
        if want != 0:
            g = -c * np.asarray(_scale(code, denom, grad_output, dt, loss.shape))[..., None]
            g = np.where(mask[..., None], g, 0)
            out.append(result(np.moveaxis(g, -1, ax), dt))
    return out[0] if len(out) == 1 else tuple(out)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean'):
    """-weight[t] input[t]; mean over sum of weight[t] of the non-ignored targets."""
    return _nll(input, target, weight, ignore_index, reduction, None, 0)


def nll_loss_grad(input, target, weight=None, ignore_index=-100, reduction='mean',
                  grad_output=None):
    return _nll(input, target, weight, ignore_index, reduction, grad_output, 1)


def nll_loss_value_and_grad(input, target, weight=None, ignore_index=-100, reduction='mean',
                            grad_output=None):
    return _nll(input, target, weight, ignore_index, reduction, grad_output, 2)


def _cce(input, target, eps, axis, reduction, grad_output, want):
    x, dt = prepare(input, 'input')
    ax = _class_axis(x, axis, fixed_1d=False)
    code = V.reduction_code(reduction)
    t = V.as_like(target, np.empty(x.shape, dt), 'target').astype(L)
    lo = dt.type(eps)
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"eps must be in [0, 1), got {eps!r}")
    lo, hi = L(lo), L(dt.type(1) - lo)
    with np.errstate(**_ERRS):
        yc = np.where(x < lo, lo, np.where(x > hi, hi, x))
        loss = -(t * np.log(yc)).sum(axis=ax)
        denom = loss.size
        out = []
        if want != 1:
            out.append(_reduce(loss, code, denom, dt))
        if want != 0:
            s = np.asarray(_scale(code, denom, grad_output, dt, loss.shape))
            s = np.expand_dims(s, ax) if s.ndim else s
            g = np.where((x >= lo) & (x <= hi), -t / x, np.where(np.isnan(x), x, 0)) * s
            out.append(result(g, dt))
    return out[0] if len(out) == 1 else tuple(out)


def categorical_cross_entropy(input, target, eps=1e-7, axis=-1, reduction='mean'):
    """Keras: per sample -sum_k t_k log(clip(y_k, eps, 1 - eps)); mean over samples."""
    return _cce(input, target, eps, axis, reduction, None, 0)


def categorical_cross_entropy_grad(input, target, eps=1e-7, axis=-1, reduction='mean',
                                   grad_output=None):
    """-t_k / y_k inside the clip range (bounds included), else 0."""
    return _cce(input, target, eps, axis, reduction, grad_output, 1)


def categorical_cross_entropy_value_and_grad(input, target, eps=1e-7, axis=-1,
                                             reduction='mean', grad_output=None):
    return _cce(input, target, eps, axis, reduction, grad_output, 2)
