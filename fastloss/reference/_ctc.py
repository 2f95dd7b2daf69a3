"""NumPy reference for the CTC loss: the textbook alpha/beta recursions in log space, float64,
one sequence at a time (see fastloss._ctc_loss for the semantics)."""
import numpy as np

from .. import _validate as V

NEG_INF = -np.inf


def _lse(*xs):
    """log(sum(exp(x))) of same-shape arrays, elementwise; all -inf gives -inf."""
    m = np.maximum.reduce(xs)
    ms = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide='ignore', invalid='ignore'):
        return ms + np.log(sum(np.exp(x - ms) for x in xs))


def _shift(a, k):
    """a moved k places right (k > 0) or left (k < 0) along the last axis, -inf filled."""
    out = np.full_like(a, NEG_INF)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def _sequence(lp, labels, blank, want_grad):
    """(nll, gradient (len, C) or None) of one sequence: lp (len, C) float64, labels 1-D."""
    n, C = lp.shape
    ext = np.full(2 * len(labels) + 1, blank)
    ext[1::2] = labels
    L = len(ext)
    skip = np.zeros(L, bool)                 # s-2 -> s allowed
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    if n == 0:
        return (0.0 if len(labels) == 0 else np.inf), np.zeros((0, C))
    e = lp[:, ext]                           # emissions (len, L)
    alpha = np.full((n, L), NEG_INF)
    alpha[0, :2] = e[0, :2]
    for t in range(1, n):
        a = alpha[t - 1]
        alpha[t] = e[t] + _lse(a, _shift(a, 1), np.where(skip, _shift(a, 2), NEG_INF))
    nll = -_lse(alpha[-1, -1:], alpha[-1, -2:-1] if L > 1 else np.array([NEG_INF]))[0]
    if not want_grad:
        return nll, None
    if not nll < np.inf:
        return nll, np.full((n, C), np.nan)
    beta = np.full((n, L), NEG_INF)
    beta[-1, -2:] = e[-1, -2:]
    skip_from = np.zeros(L, bool)            # s -> s+2 allowed
    skip_from[:-2] = skip[2:]
    for t in range(n - 2, -1, -1):
        b = beta[t + 1]
        beta[t] = e[t] + _lse(b, _shift(b, -1), np.where(skip_from, _shift(b, -2), NEG_INF))
    with np.errstate(invalid='ignore'):
        post = np.exp(alpha + beta - e + nll)  # state posteriors (len, L)
    grad = np.exp(lp)
    for s in range(L):
        grad[:, ext[s]] -= post[:, s]
    return nll, grad


def _ctc(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity,
         want_grad, grad_output=None):
    lp, tg, off, il, tl, blank = V.ctc_arguments(log_probs, targets, input_lengths,
                                                 target_lengths, blank)
    code = V.reduction_code(reduction)
    dt, batched = lp.dtype, lp.ndim == 3
    x = (lp if batched else lp[:, None, :]).astype(np.float64)
    N = x.shape[1]
    loss, grad = np.zeros(N), np.zeros(x.shape)
    for n in range(N):
        nll, g = _sequence(x[:il[n], n], tg[off[n]:off[n] + tl[n]], blank, want_grad)
        inf = zero_infinity and nll == np.inf
        loss[n] = 0.0 if inf else nll
        if want_grad:
            grad[:il[n], n] = 0.0 if inf else g
    if code == 0:
        value = loss.astype(dt) if batched else dt.type(loss[0])
    else:
        per = loss / np.maximum(tl, 1) if code == 1 else loss
        value = V.reduced(per.sum(), N, code, dt)
    if not want_grad:
        return value
    scale, g = V.grad_scale(code, N, grad_output, dt, (N,) if batched else ())
    if code == 0:
        w = np.ones(N) if g is None else g.reshape(N).astype(np.float64)
    else:
        w = scale / np.maximum(tl, 1) if code == 1 else np.full(N, scale)
    with np.errstate(invalid='ignore'):
        grad = (grad * w[None, :, None]).astype(dt)
    return value, (grad if batched else grad[:, 0, :])


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean',
             zero_infinity=False):
    """-log p(target | log_probs) summed over alignments (alpha recursion), PyTorch's
    reductions ('mean': each loss / max(target_length, 1), then the batch mean)."""
    return _ctc(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                zero_infinity, False)


def ctc_loss_grad(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean',
                  zero_infinity=False, grad_output=None):
    """PyTorch's gradient w.r.t. log_probs: g_n (exp(lp) - posterior of each class) for
    t < input_length, 0 after; NaN rows for an infinite loss (0 with zero_infinity)."""
    return _ctc(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                zero_infinity, True, grad_output)[1]


def ctc_loss_value_and_grad(log_probs, targets, input_lengths, target_lengths, blank=0,
                            reduction='mean', zero_infinity=False, grad_output=None):
    """(ctc_loss(...), ctc_loss_grad(...))."""
    return _ctc(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                zero_infinity, True, grad_output)
