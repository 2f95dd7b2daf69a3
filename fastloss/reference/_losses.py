"""NumPy reference for the elementwise losses: the same formulas as the kernels (see
fastloss._pointwise_losses), evaluated in long double, reduced with a long double sum, the
result cast to the computation dtype.  Each loss has its three forms: value, _grad and
_value_and_grad (no out=)."""
import numpy as np

from .. import _validate as V
from ._common import L, prepare, other

_ERRS = dict(all='ignore')
_KL_REDUCTIONS = ('mean', 'sum', 'none', 'batchmean')


def _run(pointwise, form, input, target, reduction, grad_output=None, weight=None,
         pos_weight=None, allowed=V.REDUCTIONS, **params):
    """Evaluate l, d = pointwise(x, t, pw, **params) and build the requested form."""
    x, dt = prepare(input, 'input')
    t = other(target, dt, 'target', x.shape)
    # float parameters (eps, delta, beta) as the kernels see them: rounded to the dtype
    params = {k: L(dt.type(v)) if type(v) is float else v for k, v in params.items()}
    code = V.reduction_code(reduction, allowed)
    count = x.size
    if code == 3:                                   # batchmean
        count, code = (x.shape[0] if x.ndim else 1), 1
    w = 1 if weight is None else np.broadcast_to(other(weight, dt, 'weight'), x.shape)
    pw = 1 if pos_weight is None else np.broadcast_to(other(pos_weight, dt, 'pos_weight'),
                                                      x.shape)
    with np.errstate(**_ERRS):
        l, d = pointwise(x, t, pw, **params)
        l, d = l * w, d * w
        if code == 0:
            value = np.asarray(l).astype(dt)
        else:
            s = np.sum(l, dtype=L)
            value = dt.type(s / count if count else np.nan) if code == 1 else dt.type(s)
        if form == 0:
            return value
        if code == 0:
            g = d if grad_output is None else d * other(grad_output, dt, 'grad_output', x.shape)
        else:
            go = 1.0 if grad_output is None else float(np.asarray(grad_output,
                                                                  np.float64).reshape(()))
            g = d * L(go) / count if code == 1 else d * L(go)
        grad = np.asarray(g).astype(dt)
    return grad if form == 1 else (value, grad)


def _check_signs(t):
    bad = ~((t == 1) | (t == -1) | np.isnan(t))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"target: values must be -1 or +1, got {float(t.flat[pos])!r} at "
                         f"position {pos} (for 0/1 labels pass 2*target-1)")


# ---- pointwise (loss, dloss/dinput) in long double ----------------------------------------

def _mse(x, t, pw):
    r = x - t
    return r * r, 2 * r


def _l1(x, t, pw):
    r = x - t
    return np.abs(r), np.sign(r)


def _huber(x, t, pw, delta):
    r = x - t
    a = np.abs(r)
    return np.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta)), np.clip(r, -delta, delta)


def _smooth_l1(x, t, pw, beta):
    if beta == 0:
        return _l1(x, t, pw)
    r = x - t
    a = np.abs(r)
    return np.where(a < beta, 0.5 * r * r / beta, a - 0.5 * beta), np.clip(r / beta, -1, 1)


def _msle(x, t, pw, eps):
    mx, mt = np.where(x < eps, eps, x), np.where(t < eps, eps, t)
    # log1p(mx) - log1p(mt) without the cancellation where mx ~ mt (as the kernel)
    hi, lo = np.where(mx < mt, mt, mx), np.where(mx < mt, mx, mt)
    a = np.log1p((hi - lo) / (1 + lo))
    r = np.where(mx < mt, -a, a)
    return r * r, np.where(x < eps, 0, 2 * r / (1 + mx))


def _mape(x, t, pw, eps):
    at = np.abs(t)
    den = np.where(at < eps, eps, at)
    return np.abs(t - x) / den * 100, 100 * np.sign(x - t) / den


def _bce(x, t, pw):
    bad = (x < 0) | (x > 1)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"input: binary_cross_entropy expects probabilities in [0, 1], got "
                         f"{float(x.flat[pos])!r} at position {pos}")
    l = (t - 1) * np.maximum(np.log1p(-x), -100) - t * np.maximum(np.log(x), -100)
    return l, (x - t) / np.maximum(x * (1 - x), 1e-12)


def _bce_logits(x, t, pw):
    # (1-t) x + lw softplus(-x), lw = 1 + (pw-1) t, as c x + lw log1p(exp(-|x|)) with
    # c = 1-t (x >= 0) or -pw t (x < 0) and c x = 0 where c == 0 (the limit at +-inf)
    e = np.exp(-np.abs(x))
    lw = 1 + (pw - 1) * t
    c = np.where(x >= 0, 1 - t, -pw * t)
    s = e / (1 + e)                                   # sigmoid(-|x|)
    l = np.where(c == 0, 0, c * x) + lw * np.log1p(e)
    d = np.where(x >= 0, (1 - t) - lw * s, lw * s - pw * t)
    return l, d


def _hinge(x, t, pw):
    _check_signs(t)
    m = 1 - t * x
    return np.where(m < 0, 0, m), np.where(m > 0, -t, np.where(np.isnan(m), m, 0))


def _squared_hinge(x, t, pw):
    _check_signs(t)
    m = np.maximum(1 - t * x, 0)
    return m * m, -2 * t * m


def _exponential(x, t, pw):
    _check_signs(t)
    e = np.exp(-t * x)
    return e, -t * e


def _kl(x, t, pw, log_target):
    if log_target:
        e = np.exp(t)
        return np.where(e == 0, np.where(np.isnan(x), x, 0), e * (t - x)), -e
    return np.where(t == 0, np.where(np.isnan(x), x, 0), t * (np.log(t) - x)), -t


def _poisson(x, t, pw, log_input, full, eps):
    if log_input:
        e = np.exp(x)
        l, d = e - np.where(t == 0, 0, t * x), e - t        # t x = 0 at t = 0: the limit
    else:                                                   # at x = +-inf (not NaN)
        l, d = x - np.where(t == 0, 0, t * np.log(x + eps)), 1 - t / (x + eps)
    if full:
        l = l + np.where(t <= 1, 0, t * np.log(t) - t + 0.5 * np.log(2 * L(np.pi) * t))
    return l, d


# ---- public functions ---------------------------------------------------------------------

def mse_loss(input, target, reduction='mean'):
    return _run(_mse, 0, input, target, reduction)


def mse_loss_grad(input, target, reduction='mean', grad_output=None):
    return _run(_mse, 1, input, target, reduction, grad_output)


def mse_loss_value_and_grad(input, target, reduction='mean', grad_output=None):
    return _run(_mse, 2, input, target, reduction, grad_output)


def l1_loss(input, target, reduction='mean'):
    return _run(_l1, 0, input, target, reduction)


def l1_loss_grad(input, target, reduction='mean', grad_output=None):
    return _run(_l1, 1, input, target, reduction, grad_output)


def l1_loss_value_and_grad(input, target, reduction='mean', grad_output=None):
    return _run(_l1, 2, input, target, reduction, grad_output)


def huber_loss(input, target, delta=1.0, reduction='mean'):
    return _run(_huber, 0, input, target, reduction, delta=V.param(delta, 'delta', True))


def huber_loss_grad(input, target, delta=1.0, reduction='mean', grad_output=None):
    return _run(_huber, 1, input, target, reduction, grad_output,
                delta=V.param(delta, 'delta', True))


def huber_loss_value_and_grad(input, target, delta=1.0, reduction='mean', grad_output=None):
    return _run(_huber, 2, input, target, reduction, grad_output,
                delta=V.param(delta, 'delta', True))


def smooth_l1_loss(input, target, beta=1.0, reduction='mean'):
    beta = V.param(beta, 'beta', nonnegative=True)
    return _run(_smooth_l1, 0, input, target, reduction, beta=beta)


def smooth_l1_loss_grad(input, target, beta=1.0, reduction='mean', grad_output=None):
    beta = V.param(beta, 'beta', nonnegative=True)
    return _run(_smooth_l1, 1, input, target, reduction, grad_output, beta=beta)


def smooth_l1_loss_value_and_grad(input, target, beta=1.0, reduction='mean', grad_output=None):
    beta = V.param(beta, 'beta', nonnegative=True)
    return _run(_smooth_l1, 2, input, target, reduction, grad_output, beta=beta)


def msle_loss(input, target, eps=1e-7, reduction='mean'):
    eps = V.param(eps, 'eps', nonnegative=True)
    return _run(_msle, 0, input, target, reduction, eps=eps)


def msle_loss_grad(input, target, eps=1e-7, reduction='mean', grad_output=None):
    eps = V.param(eps, 'eps', nonnegative=True)
    return _run(_msle, 1, input, target, reduction, grad_output, eps=eps)


def msle_loss_value_and_grad(input, target, eps=1e-7, reduction='mean', grad_output=None):
    eps = V.param(eps, 'eps', nonnegative=True)
    return _run(_msle, 2, input, target, reduction, grad_output, eps=eps)


def mape_loss(input, target, eps=1e-7, reduction='mean'):
    eps = V.param(eps, 'eps', nonnegative=True)
    return _run(_mape, 0, input, target, reduction, eps=eps)


def mape_loss_grad(input, target, eps=1e-7, reduction='mean', grad_output=None):
    eps = V.param(eps, 'eps', nonnegative=True)
    return _run(_mape, 1, input, target, reduction, grad_output, eps=eps)


def mape_loss_value_and_grad(input, target, eps=1e-7, reduction='mean', grad_output=None):
    eps = V.param(eps, 'eps', nonnegative=True)
    return _run(_mape, 2, input, target, reduction, grad_output, eps=eps)


def binary_cross_entropy(input, target, weight=None, reduction='mean'):
    return _run(_bce, 0, input, target, reduction, weight=weight)


def binary_cross_entropy_grad(input, target, weight=None, reduction='mean', grad_output=None):
    return _run(_bce, 1, input, target, reduction, grad_output, weight=weight)


def binary_cross_entropy_value_and_grad(input, target, weight=None, reduction='mean',
                                        grad_output=None):
    return _run(_bce, 2, input, target, reduction, grad_output, weight=weight)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction='mean'):
    return _run(_bce_logits, 0, input, target, reduction, weight=weight, pos_weight=pos_weight)


def binary_cross_entropy_with_logits_grad(input, target, weight=None, pos_weight=None,
                                          reduction='mean', grad_output=None):
    return _run(_bce_logits, 1, input, target, reduction, grad_output, weight=weight,
                pos_weight=pos_weight)


def binary_cross_entropy_with_logits_value_and_grad(input, target, weight=None, pos_weight=None,
                                                    reduction='mean', grad_output=None):
    return _run(_bce_logits, 2, input, target, reduction, grad_output, weight=weight,
                pos_weight=pos_weight)


def hinge_loss(input, target, reduction='mean'):
    return _run(_hinge, 0, input, target, reduction)


def hinge_loss_grad(input, target, reduction='mean', grad_output=None):
    return _run(_hinge, 1, input, target, reduction, grad_output)


def hinge_loss_value_and_grad(input, target, reduction='mean', grad_output=None):
    return _run(_hinge, 2, input, target, reduction, grad_output)


def squared_hinge_loss(input, target, reduction='mean'):
    return _run(_squared_hinge, 0, input, target, reduction)


def squared_hinge_loss_grad(input, target, reduction='mean', grad_output=None):
    return _run(_squared_hinge, 1, input, target, reduction, grad_output)


def squared_hinge_loss_value_and_grad(input, target, reduction='mean', grad_output=None):
    return _run(_squared_hinge, 2, input, target, reduction, grad_output)


def exponential_loss(input, target, reduction='mean'):
    return _run(_exponential, 0, input, target, reduction)


def exponential_loss_grad(input, target, reduction='mean', grad_output=None):
    return _run(_exponential, 1, input, target, reduction, grad_output)


def exponential_loss_value_and_grad(input, target, reduction='mean', grad_output=None):
    return _run(_exponential, 2, input, target, reduction, grad_output)


def kl_div(input, target, reduction='mean', log_target=False):
    return _run(_kl, 0, input, target, reduction, allowed=_KL_REDUCTIONS,
                log_target=bool(log_target))


def kl_div_grad(input, target, reduction='mean', log_target=False, grad_output=None):
    return _run(_kl, 1, input, target, reduction, grad_output, allowed=_KL_REDUCTIONS,
                log_target=bool(log_target))


def kl_div_value_and_grad(input, target, reduction='mean', log_target=False, grad_output=None):
    return _run(_kl, 2, input, target, reduction, grad_output, allowed=_KL_REDUCTIONS,
                log_target=bool(log_target))


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction='mean'):
    return _run(_poisson, 0, input, target, reduction, log_input=bool(log_input),
                full=bool(full), eps=V.param(eps, 'eps'))


def poisson_nll_loss_grad(input, target, log_input=True, full=False, eps=1e-8,
                          reduction='mean', grad_output=None):
    return _run(_poisson, 1, input, target, reduction, grad_output, log_input=bool(log_input),
                full=bool(full), eps=V.param(eps, 'eps'))


def poisson_nll_loss_value_and_grad(input, target, log_input=True, full=False, eps=1e-8,
                                    reduction='mean', grad_output=None):
    return _run(_poisson, 2, input, target, reduction, grad_output, log_input=bool(log_input),
                full=bool(full), eps=V.param(eps, 'eps'))
