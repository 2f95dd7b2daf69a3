"""Activations and their derivatives (API.md, "Activations").

Every function is elementwise over any shape (softmax family: along `axis`), computes in
the dtype of x (float32 or float64; other inputs follow fastloss's dtype rule), and takes
``out=`` for a preallocated result (may be x itself).  A 0-d or scalar x gives a NumPy
scalar, as NumPy's ufuncs do.  ``<name>_grad(x, grad_output=None, ...)`` returns
``grad_output * f'(x)`` (``f'(x)`` when grad_output is None), computed from the input x
in forms that stay accurate in the tails, where f'(x) is tiny but not zero.
"""
from . import _validate as V
from ._kernels import _activations as _k

_elementwise = _k.elementwise
_OP = {name: i for i, name in enumerate(_k.OPS)}
(_IDENTITY, _SIGMOID, _TANH, _RELU, _LEAKY, _ELU, _SOFTPLUS, _LOGSIG, _SILU, _GELU,
 _GELU_TANH) = range(len(_k.OPS))


def identity(x, *, out=None):
    """f(x) = x."""
    return _elementwise(_IDENTITY, x, None, out, 0.0, 0.0, False)


def identity_grad(x, grad_output=None, *, out=None):
    """f'(x) = 1 for every x, NaN and +-inf included (a linear map's derivative does not
    depend on x), so identity_grad(x, g) is a copy of g, as PyTorch's backward."""
    return _elementwise(_IDENTITY, x, grad_output, out, 0.0, 0.0, True)


def sigmoid(x, *, out=None):
    """sigma(x) = 1 / (1 + exp(-x)), evaluated as e/(1+e) (x < 0) or 1/(1+e) with e = exp(-|x|)."""
    return _elementwise(_SIGMOID, x, None, out, 0.0, 0.0, False)


def sigmoid_grad(x, grad_output=None, *, out=None):
    """sigma'(x) = sigma(x)(1 - sigma(x)) = e / (1 + e)^2 with e = exp(-|x|).
    sigmoid_grad(40.0) = 4.248e-18 (the naive s(1-s) gives 0)."""
    return _elementwise(_SIGMOID, x, grad_output, out, 0.0, 0.0, True)


def tanh(x, *, out=None):
    """tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|) (via expm1 near 0)."""
    return _elementwise(_TANH, x, None, out, 0.0, 0.0, False)


def tanh_grad(x, grad_output=None, *, out=None):
    """tanh'(x) = 1 - tanh(x)^2 = 4e / (1 + e)^2 with e = exp(-2|x|); tanh_grad(10.0) = 8.2446e-9."""
    return _elementwise(_TANH, x, grad_output, out, 0.0, 0.0, True)


def relu(x, *, out=None):
    """relu(x) = max(x, 0); NaN propagates."""
    return _elementwise(_RELU, x, None, out, 0.0, 0.0, False)


def relu_grad(x, grad_output=None, *, out=None):
    """relu'(x) = 1 for x > 0, else 0 (0 at the kink x = 0, as PyTorch)."""
    return _elementwise(_RELU, x, grad_output, out, 0.0, 0.0, True)


def leaky_relu(x, negative_slope=0.01, *, out=None):
    """leaky_relu(x) = x for x > 0, negative_slope * x otherwise."""
    return _elementwise(_LEAKY, x, None, out, V.param(negative_slope, 'negative_slope'), 0.0, False)


def leaky_relu_grad(x, grad_output=None, *, negative_slope=0.01, out=None):
    """1 for x > 0, negative_slope otherwise (also at 0, as PyTorch)."""
    return _elementwise(_LEAKY, x, grad_output, out,
                        V.param(negative_slope, 'negative_slope'), 0.0, True)


def elu(x, alpha=1.0, *, out=None):
    """elu(x) = x for x > 0, alpha * expm1(x) otherwise."""
    return _elementwise(_ELU, x, None, out, V.param(alpha, 'alpha'), 0.0, False)


def elu_grad(x, grad_output=None, *, alpha=1.0, out=None):
    """1 for x > 0, alpha * exp(x) otherwise."""
    return _elementwise(_ELU, x, grad_output, out, V.param(alpha, 'alpha'), 0.0, True)


def softplus(x, beta=1.0, threshold=20.0, *, out=None):
    """softplus(x) = log1p(exp(beta x)) / beta, and x where beta * x > threshold (PyTorch's
    rule).  Evaluated as (max(bx, 0) + log1p(exp(-|bx|))) / beta."""
    return _elementwise(_SOFTPLUS, x, None, out, V.param(beta, 'beta', positive=True),
                        V.param(threshold, 'threshold'), False)


def softplus_grad(x, grad_output=None, *, beta=1.0, threshold=20.0, out=None):
    """sigmoid(beta x), and 1 where beta * x > threshold."""
    return _elementwise(_SOFTPLUS, x, grad_output, out, V.param(beta, 'beta', positive=True),
                        V.param(threshold, 'threshold'), True)


def log_sigmoid(x, *, out=None):
    """log sigma(x) = min(x, 0) - log1p(exp(-|x|))."""
    return _elementwise(_LOGSIG, x, None, out, 0.0, 0.0, False)


def log_sigmoid_grad(x, grad_output=None, *, out=None):
    """d/dx log sigma(x) = sigma(-x) = 1 - sigma(x)."""
    return _elementwise(_LOGSIG, x, grad_output, out, 0.0, 0.0, True)


def silu(x, *, out=None):
    """silu(x) = x * sigma(x) (also called swish)."""
    return _elementwise(_SILU, x, None, out, 0.0, 0.0, False)


def silu_grad(x, grad_output=None, *, out=None):
    """silu'(x) = sigma(x) + x sigma'(x)."""
    return _elementwise(_SILU, x, grad_output, out, 0.0, 0.0, True)


_GELU_OPS = {'none': _GELU, 'tanh': _GELU_TANH}


def gelu(x, approximate='none', *, out=None):
    """gelu(x) = x Phi(x) = x/2 erfc(-x/sqrt 2) ('none'), or the tanh approximation
    x/2 (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) ('tanh'), as PyTorch."""
    op = _GELU_OPS[V.choice(approximate, 'approximate', _GELU_OPS)]
    return _elementwise(op, x, None, out, 0.0, 0.0, False)


def gelu_grad(x, grad_output=None, *, approximate='none', out=None):
    """gelu'(x) = Phi(x) + x phi(x) ('none'), or the derivative of the tanh form."""
    op = _GELU_OPS[V.choice(approximate, 'approximate', _GELU_OPS)]
    return _elementwise(op, x, grad_output, out, 0.0, 0.0, True)


def prelu(x, weight, *, out=None):
    """prelu(x) = x for x > 0, weight[c] * x otherwise; weight has shape (1,) or (C,) with
    channels on axis 1 (one channel when x.ndim < 2), as PyTorch."""
    return _k.prelu(x, weight, None, out, False)


def prelu_grad(x, weight, grad_output=None, *, out=None):
    """(grad_x, grad_weight): grad_x = g * (x > 0 ? 1 : weight[c]); grad_weight[c] = sum of
    g * x over x <= 0 and every axis but 1, shaped like weight (summed in float64)."""
    return _k.prelu(x, weight, grad_output, out, True)


def softmax(x, axis=-1, *, out=None):
    """softmax(x)_k = exp(x_k - m) / sum_j exp(x_j - m), m = max_j x_j, along `axis`."""
    return _k.along_axis(0, x, None, axis, out)


def log_softmax(x, axis=-1, *, out=None):
    """log_softmax(x)_k = x_k - m - log(sum_j exp(x_j - m)), never log(softmax(x))."""
    return _k.along_axis(1, x, None, axis, out)


def softmax_grad(x, grad_output, axis=-1, *, out=None):
    """Vector-Jacobian product of softmax at logits x: y * (g - sum(g * y)), y = softmax(x)."""
    return _k.along_axis(2, x, grad_output, axis, out)


def log_softmax_grad(x, grad_output, axis=-1, *, out=None):
    """Vector-Jacobian product of log_softmax at logits x: g - softmax(x) * sum(g)."""
    return _k.along_axis(3, x, grad_output, axis, out)


ACTIVATIONS = ('identity', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'elu', 'softplus',
               'log_sigmoid', 'gelu', 'silu', 'prelu', 'softmax', 'log_softmax')
