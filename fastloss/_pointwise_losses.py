"""Elementwise losses (API.md, "Losses"), each in three forms:

* ``<loss>(input, target, ..., reduction='mean')``: the loss, pointwise ('none': an array
  of input's shape) or reduced ('mean' | 'sum': a NumPy scalar of the computation dtype,
  summed in float64 over fixed blocks in a fixed order, the same bits for any thread
  count; mean of zero elements is nan, sum is 0.0);
* ``<loss>_grad(..., reduction='mean', grad_output=None, out=None)``: d(reduced loss)/d(input)
  times grad_output (a scalar for mean/sum, an array of input's shape for 'none');
* ``<loss>_value_and_grad(...)``: ``(value, grad)`` from one pass over the data.

input and target must have the same shape.  NaN propagates (also through gradients and
for binary_cross_entropy, where PyTorch raises).  Kinks follow PyTorch (l1: gradient 0 at
input == target; huber, smooth_l1: as PyTorch); hinge-type kinks have gradient 0, as relu.
"""
from . import _validate as V
from ._kernels import _losses as _k

_loss = _k.loss
(_MSE, _L1, _HUBER, _SMOOTH_L1, _MSLE, _MAPE, _BCE, _BCE_LOGITS, _HINGE, _SQ_HINGE, _EXP,
 _KL, _KL_LOG, _POIS_LOG, _POIS_LOG_FULL, _POIS, _POIS_FULL) = range(len(_k.KERNELS))
_VALUE, _GRAD, _BOTH = 0, 1, 2

LOSSES = ('mse_loss', 'l1_loss', 'huber_loss', 'smooth_l1_loss', 'msle_loss', 'mape_loss',
          'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'hinge_loss',
          'squared_hinge_loss', 'exponential_loss', 'kl_div', 'poisson_nll_loss')
__all__ = [name + suffix for name in LOSSES for suffix in ('', '_grad', '_value_and_grad')]


# ---- mse ------------------------------------------------------------------------------

def mse_loss(input, target, reduction='mean'):
    """(input - target)^2, averaged (PyTorch).  The seed's E = 1/2 sum (y-t)^2 is
    0.5 * mse_loss(y, t, reduction='sum')."""
    return _loss(_MSE, input, target, reduction, _VALUE, 0.0, 0.0, None, None, None, None)


def mse_loss_grad(input, target, reduction='mean', grad_output=None, out=None):
    """2 (input - target) [/ N for mean] * grad_output."""
    return _loss(_MSE, input, target, reduction, _GRAD, 0.0, 0.0, None, None, grad_output, out)


def mse_loss_value_and_grad(input, target, reduction='mean', grad_output=None, out=None):
    """(mse_loss, mse_loss_grad) in one pass."""
    return _loss(_MSE, input, target, reduction, _BOTH, 0.0, 0.0, None, None, grad_output, out)


# ---- l1 -------------------------------------------------------------------------------

def l1_loss(input, target, reduction='mean'):
    """|input - target| (mean absolute error, PyTorch)."""
    return _loss(_L1, input, target, reduction, _VALUE, 0.0, 0.0, None, None, None, None)


def l1_loss_grad(input, target, reduction='mean', grad_output=None, out=None):
    """sign(input - target), 0 at equality (PyTorch); NaN propagates."""
    return _loss(_L1, input, target, reduction, _GRAD, 0.0, 0.0, None, None, grad_output, out)


def l1_loss_value_and_grad(input, target, reduction='mean', grad_output=None, out=None):
    """(l1_loss, l1_loss_grad) in one pass."""
    return _loss(_L1, input, target, reduction, _BOTH, 0.0, 0.0, None, None, grad_output, out)


# ---- huber ----------------------------------------------------------------------------

def huber_loss(input, target, delta=1.0, reduction='mean'):
    """r = input - target: 0.5 r^2 where |r| < delta, else delta (|r| - 0.5 delta)
    (PyTorch; delta > 0)."""
    return _loss(_HUBER, input, target, reduction, _VALUE, V.param(delta, 'delta', True), 0.0,
                 None, None, None, None)


def huber_loss_grad(input, target, delta=1.0, reduction='mean', grad_output=None, out=None):
    """clip(input - target, -delta, delta) (PyTorch)."""
    return _loss(_HUBER, input, target, reduction, _GRAD, V.param(delta, 'delta', True), 0.0,
                 None, None, grad_output, out)


def huber_loss_value_and_grad(input, target, delta=1.0, reduction='mean', grad_output=None,
                              out=None):
    """(huber_loss, huber_loss_grad) in one pass."""
    return _loss(_HUBER, input, target, reduction, _BOTH, V.param(delta, 'delta', True), 0.0,
                 None, None, grad_output, out)


# ---- smooth_l1 ------------------------------------------------------------------------

def _smooth_l1(beta):
    b = V.param(beta, 'beta', nonnegative=True)
    return (_SMOOTH_L1, b) if b > 0 else (_L1, 0.0)      # beta = 0 is exactly l1 (PyTorch)


def smooth_l1_loss(input, target, beta=1.0, reduction='mean'):
    """r = input - target: 0.5 r^2 / beta where |r| < beta, else |r| - 0.5 beta (PyTorch;
    beta >= 0, beta = 0 is exactly l1_loss)."""
    k, b = _smooth_l1(beta)
    return _loss(k, input, target, reduction, _VALUE, b, 0.0, None, None, None, None)


def smooth_l1_loss_grad(input, target, beta=1.0, reduction='mean', grad_output=None, out=None):
    """clip((input - target) / beta, -1, 1) (PyTorch; beta = 0: sign, 0 at equality)."""
    k, b = _smooth_l1(beta)
    return _loss(k, input, target, reduction, _GRAD, b, 0.0, None, None, grad_output, out)


def smooth_l1_loss_value_and_grad(input, target, beta=1.0, reduction='mean', grad_output=None,
                                  out=None):
    """(smooth_l1_loss, smooth_l1_loss_grad) in one pass."""
    k, b = _smooth_l1(beta)
    return _loss(k, input, target, reduction, _BOTH, b, 0.0, None, None, grad_output, out)


# ---- msle, mape (Keras) ---------------------------------------------------------------

def msle_loss(input, target, eps=1e-7, reduction='mean'):
    """(log1p(max(input, eps)) - log1p(max(target, eps)))^2 (Keras; eps >= 0)."""
    eps = V.param(eps, 'eps', nonnegative=True)
    return _loss(_MSLE, input, target, reduction, _VALUE, eps, 0.0,
                 None, None, None, None)


def msle_loss_grad(input, target, eps=1e-7, reduction='mean', grad_output=None, out=None):
    """2 (log1p(max(input, eps)) - log1p(max(target, eps))) / (1 + input) where
    input >= eps, else 0."""
    eps = V.param(eps, 'eps', nonnegative=True)
    return _loss(_MSLE, input, target, reduction, _GRAD, eps, 0.0,
                 None, None, grad_output, out)


def msle_loss_value_and_grad(input, target, eps=1e-7, reduction='mean', grad_output=None,
                             out=None):
    """(msle_loss, msle_loss_grad) in one pass."""
    eps = V.param(eps, 'eps', nonnegative=True)
    return _loss(_MSLE, input, target, reduction, _BOTH, eps, 0.0,
                 None, None, grad_output, out)


def mape_loss(input, target, eps=1e-7, reduction='mean'):
    """100 |target - input| / max(|target|, eps) (Keras; eps >= 0)."""
    eps = V.param(eps, 'eps', nonnegative=True)
    return _loss(_MAPE, input, target, reduction, _VALUE, eps, 0.0,
                 None, None, None, None)


def mape_loss_grad(input, target, eps=1e-7, reduction='mean', grad_output=None, out=None):
    """100 sign(input - target) / max(|target|, eps), 0 at equality."""
    eps = V.param(eps, 'eps', nonnegative=True)
    return _loss(_MAPE, input, target, reduction, _GRAD, eps, 0.0,
                 None, None, grad_output, out)


def mape_loss_value_and_grad(input, target, eps=1e-7, reduction='mean', grad_output=None,
                             out=None):
    """(mape_loss, mape_loss_grad) in one pass."""
    eps = V.param(eps, 'eps', nonnegative=True)
    return _loss(_MAPE, input, target, reduction, _BOTH, eps, 0.0,
                 None, None, grad_output, out)


# ---- binary cross-entropy -------------------------------------------------------------

def binary_cross_entropy(input, target, weight=None, reduction='mean'):
    """-weight (t max(log y, -100) + (1 - t) max(log(1 - y), -100)) on probabilities y in
    [0, 1] (PyTorch; outside -> ValueError naming the value and its position; NaN
    propagates).  weight broadcasts to input; mean divides by the element count."""
    return _loss(_BCE, input, target, reduction, _VALUE, 0.0, 0.0, weight, None, None, None)


def binary_cross_entropy_grad(input, target, weight=None, reduction='mean', grad_output=None,
                              out=None):
    """weight (y - t) / max(y (1 - y), 1e-12) (PyTorch)."""
    return _loss(_BCE, input, target, reduction, _GRAD, 0.0, 0.0, weight, None, grad_output, out)


def binary_cross_entropy_value_and_grad(input, target, weight=None, reduction='mean',
                                        grad_output=None, out=None):
    """(binary_cross_entropy, binary_cross_entropy_grad) in one pass."""
    return _loss(_BCE, input, target, reduction, _BOTH, 0.0, 0.0, weight, None, grad_output, out)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction='mean'):
    """weight ((1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)) on logits x (PyTorch),
    stable for every x, +-inf included (bce(-inf, 0) = 0).  weight and pos_weight broadcast
    to input (a (C,) pos_weight applies along the last axis)."""
    return _loss(_BCE_LOGITS, input, target, reduction, _VALUE, 0.0, 0.0, weight, pos_weight,
                 None, None)


def binary_cross_entropy_with_logits_grad(input, target, weight=None, pos_weight=None,
                                          reduction='mean', grad_output=None, out=None):
    """weight ((1 + (pw - 1) t) sigmoid(x) - pw t), without cancellation in the tails."""
    return _loss(_BCE_LOGITS, input, target, reduction, _GRAD, 0.0, 0.0, weight, pos_weight,
                 grad_output, out)


def binary_cross_entropy_with_logits_value_and_grad(input, target, weight=None, pos_weight=None,
                                                    reduction='mean', grad_output=None,
                                                    out=None):
    """(binary_cross_entropy_with_logits, its _grad) in one pass."""
    return _loss(_BCE_LOGITS, input, target, reduction, _BOTH, 0.0, 0.0, weight, pos_weight,
                 grad_output, out)


# ---- margin losses (targets -1 / +1) --------------------------------------------------

def hinge_loss(input, target, reduction='mean'):
    """max(0, 1 - t y); t must be -1 or +1 (else ValueError; use 2*t-1 for 0/1 labels)."""
    return _loss(_HINGE, input, target, reduction, _VALUE, 0.0, 0.0, None, None, None, None)


def hinge_loss_grad(input, target, reduction='mean', grad_output=None, out=None):
    """-t where 1 - t y > 0, else 0 (0 at the kink)."""
    return _loss(_HINGE, input, target, reduction, _GRAD, 0.0, 0.0, None, None, grad_output, out)


def hinge_loss_value_and_grad(input, target, reduction='mean', grad_output=None, out=None):
    """(hinge_loss, hinge_loss_grad) in one pass."""
    return _loss(_HINGE, input, target, reduction, _BOTH, 0.0, 0.0, None, None, grad_output, out)


def squared_hinge_loss(input, target, reduction='mean'):
    """max(0, 1 - t y)^2; t must be -1 or +1."""
    return _loss(_SQ_HINGE, input, target, reduction, _VALUE, 0.0, 0.0, None, None, None, None)


def squared_hinge_loss_grad(input, target, reduction='mean', grad_output=None, out=None):
    """-2 t max(0, 1 - t y)."""
    return _loss(_SQ_HINGE, input, target, reduction, _GRAD, 0.0, 0.0, None, None,
                 grad_output, out)


def squared_hinge_loss_value_and_grad(input, target, reduction='mean', grad_output=None,
                                      out=None):
    """(squared_hinge_loss, squared_hinge_loss_grad) in one pass."""
    return _loss(_SQ_HINGE, input, target, reduction, _BOTH, 0.0, 0.0, None, None,
                 grad_output, out)


def exponential_loss(input, target, reduction='mean'):
    """exp(-t y); t must be -1 or +1."""
    return _loss(_EXP, input, target, reduction, _VALUE, 0.0, 0.0, None, None, None, None)


def exponential_loss_grad(input, target, reduction='mean', grad_output=None, out=None):
    """-t exp(-t y)."""
    return _loss(_EXP, input, target, reduction, _GRAD, 0.0, 0.0, None, None, grad_output, out)


def exponential_loss_value_and_grad(input, target, reduction='mean', grad_output=None,
                                    out=None):
    """(exponential_loss, exponential_loss_grad) in one pass."""
    return _loss(_EXP, input, target, reduction, _BOTH, 0.0, 0.0, None, None, grad_output, out)


# ---- kl_div ---------------------------------------------------------------------------

def kl_div(input, target, reduction='mean', log_target=False):
    """PyTorch: input is log q; pointwise t (log t - input), 0 where t == 0 (log_target:
    exp(t) (t - input)).  reduction 'batchmean' = sum / input.shape[0]; 'mean' averages over
    all elements."""
    return _loss(_KL_LOG if log_target else _KL, input, target, reduction, _VALUE, 0.0, 0.0,
                 None, None, None, None)


def kl_div_grad(input, target, reduction='mean', log_target=False, grad_output=None, out=None):
    """-t (log_target: -exp(t))."""
    return _loss(_KL_LOG if log_target else _KL, input, target, reduction, _GRAD, 0.0, 0.0,
                 None, None, grad_output, out)


def kl_div_value_and_grad(input, target, reduction='mean', log_target=False, grad_output=None,
                          out=None):
    """(kl_div, kl_div_grad) in one pass."""
    return _loss(_KL_LOG if log_target else _KL, input, target, reduction, _BOTH, 0.0, 0.0,
                 None, None, grad_output, out)


# ---- poisson_nll_loss -----------------------------------------------------------------

def _poisson(log_input, full):
    return (_POIS_LOG_FULL if full else _POIS_LOG) if log_input else (
        _POIS_FULL if full else _POIS)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction='mean'):
    """PyTorch: exp(x) - t x (log_input) or x - t log(x + eps); full=True adds the Stirling
    term t log t - t + 0.5 log(2 pi t) where t > 1."""
    return _loss(_poisson(log_input, full), input, target, reduction, _VALUE,
                 V.param(eps, 'eps'), 0.0, None, None, None, None)


def poisson_nll_loss_grad(input, target, log_input=True, full=False, eps=1e-8,
                          reduction='mean', grad_output=None, out=None):
    """exp(x) - t (log_input) or 1 - t / (x + eps)."""
    return _loss(_poisson(log_input, full), input, target, reduction, _GRAD,
                 V.param(eps, 'eps'), 0.0, None, None, grad_output, out)


def poisson_nll_loss_value_and_grad(input, target, log_input=True, full=False, eps=1e-8,
                                    reduction='mean', grad_output=None, out=None):
    """(poisson_nll_loss, poisson_nll_loss_grad) in one pass."""
    return _loss(_poisson(log_input, full), input, target, reduction, _BOTH,
                 V.param(eps, 'eps'), 0.0, None, None, grad_output, out)
