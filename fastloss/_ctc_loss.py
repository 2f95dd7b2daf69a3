"""CTC loss (Connectionist Temporal Classification), PyTorch's semantics and gradient.

log_probs (T, N, C) are per-frame log-probabilities (usually a log_softmax over C), or (T, C)
for one unbatched sequence; targets are padded (N, S) or concatenated 1-D (unbatched: (S,));
input_lengths / target_lengths hold N lengths of any integer dtype.  The loss of sequence n is
-log p(target_n | log_probs[:input_lengths[n], n]), the sum over every alignment (blanks
between labels, repeats collapsed) computed by a log-space forward-backward pass.
An impossible alignment (input too short for the target and its repeated labels) gives inf,
or 0 with a zero gradient when zero_infinity=True.  reduction='mean' divides each loss by its
target length (clamped to >= 1), then averages over the batch.
"""
from ._kernels import _ctc as _k

__all__ = ['ctc_loss', 'ctc_loss_grad', 'ctc_loss_value_and_grad']
LOSSES = ('ctc_loss',)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean',
             zero_infinity=False):
    """loss_n = -log sum_{alignments a of target_n} prod_t exp(log_probs[t, n, a_t]),
    t < input_lengths[n].  'none' gives the (N,) losses (a scalar when unbatched)."""
    return _k.ctc(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                  bool(zero_infinity), 0, None, None)


def ctc_loss_grad(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean',
                  zero_infinity=False, grad_output=None, *, out=None):
    """Gradient w.r.t. log_probs, exactly PyTorch's: for t < input_lengths[n]
    grad[t, n, c] = g_n * (exp(log_probs[t, n, c]) - sum_{s: l'_s = c} gamma_t(s)), with gamma
    the posterior of extended-label state s at time t, and 0 for later t.  When log_probs is
    a log_softmax this is d loss / d logits (and passing it back through log_softmax changes
    nothing); as a derivative w.r.t. free log_probs it carries the extra exp(log_probs) term.
    g_n = grad_output / (N * max(target_length_n, 1)) for 'mean', grad_output for 'sum', and
    grad_output[n] for 'none'.  An infinite loss gives NaN rows (0 with zero_infinity)."""
    return _k.ctc(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                  bool(zero_infinity), 1, grad_output, out)


def ctc_loss_value_and_grad(log_probs, targets, input_lengths, target_lengths, blank=0,
                            reduction='mean', zero_infinity=False, grad_output=None, *,
                            out=None):
    """(ctc_loss(...), ctc_loss_grad(...)) from one forward-backward pass."""
    return _k.ctc(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                  bool(zero_infinity), 2, grad_output, out)
