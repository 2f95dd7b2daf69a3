"""Cross-entropy family (API.md, "Losses"): cross_entropy, nll_loss, categorical_cross_entropy,
each as value, ``_grad`` and fused ``_value_and_grad``.

Common rules: the input decides the dtype (float32 computed in float32, the loss summed in
float64); class-index targets may have any integer dtype and are range-checked in the kernel
(an index outside [0, C) that is not ignore_index -> ValueError with the value and its flat
position; float targets where indices are expected -> TypeError).  ``reduction`` is 'mean'
(default), 'sum' or 'none'; 'none' has the input's shape without the class axis.
``<loss>_grad(..., reduction, grad_output=None, out=None)`` returns d(reduced loss)/d(input)
times grad_output (a scalar for mean/sum, an array of the unreduced shape for 'none');
``<loss>_value_and_grad`` returns (value, grad) from one pass over the data.
"""
from ._kernels import _xent as _k

_run = _k.run
_XENT, _NLL, _CCE = 0, 1, 2
_VALUE, _GRAD, _BOTH = 0, 1, 2


def cross_entropy(input, target, weight=None, ignore_index=-100, label_smoothing=0.0, axis=1,
                  reduction='mean'):
    """Cross-entropy of logits, as torch.nn.functional.cross_entropy.

    input: logits (N, C), (C,) or (N, C, d1, ..., dk), classes on `axis` (default 1; the
    class axis of a 1-D input is 0).  Computed in log space: -log p_k = L - (x_k - m) with
    m = max x, L = log sum exp(x - m) (never log(softmax)).
    Class-index target (input's shape without the class axis, any integer dtype):
    loss = (1 - ls) w[t] (-log p_t) + ls/C sum_c w[c] (-log p_c) (ls = label_smoothing in
    [0, 1], w = weight of shape (C,), 1 if None); 'mean' divides the sum by sum of w[t] over
    the non-ignored targets (also the smoothing term, as PyTorch).  Targets equal to
    ignore_index (which may lie outside [0, C), e.g. -100 or 255) have loss 0 and gradient
    0; an all-ignored or empty batch gives nan under 'mean' and 0 under 'sum'.
    Class-probability target (input's shape, float): loss = -sum_c w[c] q_c log p_c with
    q = (1 - ls) target + ls/C; 'mean' divides by the number of samples (elements / C);
    ignore_index must stay negative (PyTorch's rule).  0 * log 0 counts as 0, so a -inf
    (masked) logit with zero target mass gives a finite loss.
    Extremes: a -inf logit on a non-target class is fine; one +inf logit gives the limit
    (loss 0 when it is the target's, inf otherwise); NaN propagates; a row of only -inf
    gives nan.
    """
    return _run(_XENT, _VALUE, input, target, weight, ignore_index, label_smoothing, axis,
                reduction, None, None)


def cross_entropy_grad(input, target, weight=None, ignore_index=-100, label_smoothing=0.0,
                       axis=1, reduction='mean', grad_output=None, out=None):
    """d cross_entropy / d input: s (A softmax(x)_k - c_k), where the loss of a sample is
    sum_k c_k (-log p_k), A = sum_k c_k, s = grad_output (/ the 'mean' divisor); 0 at ignored
    positions.  The target's own term uses p_t - 1 = -(sum_{k != t} e_k) / sum when it is
    the largest logit, so it keeps its digits.  Same arguments as cross_entropy."""
    return _run(_XENT, _GRAD, input, target, weight, ignore_index, label_smoothing, axis,
                reduction, grad_output, out)


def cross_entropy_value_and_grad(input, target, weight=None, ignore_index=-100,
                                 label_smoothing=0.0, axis=1, reduction='mean',
                                 grad_output=None, out=None):
    """(cross_entropy(...), cross_entropy_grad(...)) from one pass: each row's softmax is
    computed once and the gradient written in the same pass."""
    return _run(_XENT, _BOTH, input, target, weight, ignore_index, label_smoothing, axis,
                reduction, grad_output, out)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction='mean'):
    """Negative log-likelihood, as torch.nn.functional.nll_loss: input are log-probabilities
    (N, C), (C,) or (N, C, d1, ..., dk) with classes on axis 1 (axis 0 for 1-D); target are
    class indices; loss = -w[t] input[t].  'mean' divides by sum of w[t] over non-ignored
    targets (nan when all are ignored or the batch is empty); ignored positions give 0."""
    return _run(_NLL, _VALUE, input, target, weight, ignore_index, 0.0, 1, reduction, None, None)


def nll_loss_grad(input, target, weight=None, ignore_index=-100, reduction='mean',
                  grad_output=None, out=None):
    """d nll_loss / d input: -s w[t] at the target class, 0 elsewhere and at ignored
    positions (s = grad_output, divided by sum w[t] for 'mean')."""
    return _run(_NLL, _GRAD, input, target, weight, ignore_index, 0.0, 1, reduction,
                grad_output, out)


def nll_loss_value_and_grad(input, target, weight=None, ignore_index=-100, reduction='mean',
                            grad_output=None, out=None):
    """(nll_loss(...), nll_loss_grad(...)) from one pass."""
    return _run(_NLL, _BOTH, input, target, weight, ignore_index, 0.0, 1, reduction,
                grad_output, out)


def categorical_cross_entropy(input, target, eps=1e-7, axis=-1, reduction='mean'):
    """Keras-style categorical cross-entropy on probabilities: per sample
    -sum_k t_k log(clip(y_k, eps, 1 - eps)) along `axis` (the bounds taken in the input's
    dtype; y is not renormalised).  target has the input's shape.  'mean' averages over
    the samples; 'none' has the input's shape without `axis`.
    Example: y = [.1, .05, .6, 0, .05, .1, 0, .1, 0, 0], t = one-hot(2) -> -log 0.6 = 0.5108."""
    return _run(_CCE, _VALUE, input, target, None, -100, eps, axis, reduction, None, None)


def categorical_cross_entropy_grad(input, target, eps=1e-7, axis=-1, reduction='mean',
                                   grad_output=None, out=None):
    """d categorical_cross_entropy / d input: -s t_k / y_k where eps <= y_k <= 1 - eps (the
    clip passes the gradient there, as torch.clamp), else 0."""
    return _run(_CCE, _GRAD, input, target, None, -100, eps, axis, reduction, grad_output, out)


def categorical_cross_entropy_value_and_grad(input, target, eps=1e-7, axis=-1,
                                             reduction='mean', grad_output=None, out=None):
    """(categorical_cross_entropy(...), categorical_cross_entropy_grad(...)) from one pass."""
    return _run(_CCE, _BOTH, input, target, None, -100, eps, axis, reduction, grad_output, out)


LOSSES = ('cross_entropy', 'nll_loss', 'categorical_cross_entropy')
__all__ = [f + s for f in LOSSES for s in ('', '_grad', '_value_and_grad')]
