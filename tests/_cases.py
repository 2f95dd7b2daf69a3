"""Valid arguments for every loss (issue 5's robustness, property and resource tests).

``make(name, rng, dtype, n=8)`` returns ``(args, kwargs)`` for ``fl.<name>(*args, **kwargs)``
with the first array argument of `dtype`; ``ARRAY_ARGS[name]`` are the positions of the
array arguments (first = the one deciding the computation dtype)."""
import numpy as np

POINTWISE = ('mse_loss', 'l1_loss', 'huber_loss', 'smooth_l1_loss', 'msle_loss', 'mape_loss',
             'binary_cross_entropy', 'binary_cross_entropy_with_logits', 'hinge_loss',
             'squared_hinge_loss', 'exponential_loss', 'kl_div', 'poisson_nll_loss')
CLASS = ('cross_entropy', 'nll_loss', 'categorical_cross_entropy')
ALL = POINTWISE + CLASS + ('ctc_loss',)
SIGN = ('hinge_loss', 'squared_hinge_loss', 'exponential_loss')


def pointwise_data(name, rng, shape, dtype):
    x = rng.standard_normal(shape)
    t = rng.standard_normal(shape)
    if name == 'binary_cross_entropy':
        x, t = rng.uniform(0.02, 0.98, shape), rng.uniform(0, 1, shape)
    elif name == 'binary_cross_entropy_with_logits':
        t = rng.uniform(0, 1, shape)
    elif name in SIGN:
        t = rng.choice([-1.0, 1.0], shape)
    elif name == 'kl_div':
        x, t = x - 2, rng.uniform(0, 1, shape)
    elif name == 'poisson_nll_loss':
        t = rng.poisson(2.0, shape).astype(float)
    elif name in ('msle_loss', 'mape_loss'):
        x, t = rng.uniform(-0.5, 4, shape), rng.uniform(0.1, 4, shape)
    return np.asarray(x, dtype), np.asarray(t, dtype)


def make(name, rng, dtype=np.float64, n=8):
    """(args, kwargs) of a valid call of fl.<name> on about n samples."""
    if name in POINTWISE:
        x, t = pointwise_data(name, rng, (n,), dtype)
        return (x, t), {}
    if name in ('cross_entropy', 'nll_loss'):
        C = 5
        x = rng.standard_normal((n, C)).astype(dtype)
        if name == 'nll_loss':
            x = (x - np.log(np.exp(x.astype(np.float64)).sum(1, keepdims=True))).astype(dtype)
        t = rng.integers(0, C, n)
        return (x, t), {}
    if name == 'categorical_cross_entropy':
        C = 5
        y = rng.uniform(0.01, 1, (n, C))
        y /= y.sum(1, keepdims=True)
        t = np.eye(C)[rng.integers(0, C, n)]
        return (y.astype(dtype), t.astype(dtype)), {}
    if name == 'ctc_loss':
        T, N, C, S = 6, max(n // 4, 1), 4, 3
        z = rng.standard_normal((T, N, C))
        lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        tg = rng.integers(1, C, (N, S))
        il = np.full(N, T)
        tl = rng.integers(1, S + 1, N)
        return (lp.astype(dtype), tg, il, tl), {}
    raise KeyError(name)


def grad_shape(name, args):
    """Shape of the gradient (= of the first array argument)."""
    return np.shape(args[0])


def unreduced_shape(name, args):
    x = np.asarray(args[0])
    if name in POINTWISE:
        return x.shape
    if name in ('cross_entropy', 'nll_loss'):
        return x.shape[:1] + x.shape[2:]
    if name == 'categorical_cross_entropy':
        return x.shape[:-1]
    return (x.shape[1],)
