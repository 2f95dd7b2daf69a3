"""Cheap checks for vanishing and exploding gradients (seed 004).

Backpropagation multiplies the gradient by f'(z) at every layer.  Where f'(z) is tiny the
gradient vanishes: a sigmoid or tanh unit is *saturated*, a relu unit that is never
positive is *dead* and passes no gradient at all.  Where the per-layer factors are large
the gradient explodes.  The functions here answer these questions on one batch, in one
pass over the data each, without transcendental functions in the loop (the saturation
tolerance is converted once into a threshold on |z|):

    import fastloss as fl
    from fastloss import diagnostics as D
    D.saturated_fraction(z1, 'sigmoid')      # share of hidden units with sigma'(z) < 1e-2
    D.dead_fraction(z2)                      # share of relu units never positive on the batch
    D.gradient_norms([gW1, gW2, gW3])        # per-layer L2 / RMS / max|g| and their ratios

`z` is the pre-activation (the activation's input), shaped (batch, units, ...).  Inputs
follow fastloss's dtype rules (float32 and float64 computed natively, other real inputs
converted, complex/object/str -> TypeError naming the argument).  Counts are exact
integers and sums are float64 added in a fixed block order, so every result is the same
for any thread count.  NumPy equivalents are given in each docstring (the tests check
them).
"""
import math
from typing import NamedTuple

import numpy as np

from . import _validate as V
from ._kernels import _diagnostics as _k

__all__ = ['SATURATION_TOL', 'saturation_threshold', 'saturated_fraction', 'dead_units',
           'dead_fraction', 'GradientNorms', 'gradient_norms']

#: Default tolerance: a unit is saturated where |f'(z)| < 1e-2, i.e. where backprop keeps
#: less than 1 % of the gradient arriving at the unit (4 % of sigmoid's best case 0.25,
#: 1 % of tanh's best case 1).  sigmoid: |z| > 4.585 (a outside [0.0101, 0.9899]);
#: tanh: |z| > 2.993 (|a| > 0.995).  The seed's stuck neuron starts at z = 4
#: (sigma'(4) = 0.018), just above the line: pass tol=0.02 to count it.
SATURATION_TOL = 1e-2

_SATURATING = ('sigmoid', 'tanh')


def saturation_threshold(activation='sigmoid', tol=SATURATION_TOL):
    """The |z| beyond which f'(z) < tol for f = 'sigmoid' or 'tanh' (both derivatives are
    even and decrease in |z|).  Solved in closed form (float64):

    * sigmoid: sigma'(z) = e/(1+e)^2 with e = exp(-|z|):
      z_tol = log((1 - 2 tol) + sqrt(1 - 4 tol)) - log(2 tol)           (tol <= 1/4)
    * tanh: tanh'(z) = 4e/(1+e)^2 with e = exp(-2|z|):
      z_tol = (log((2 - tol) + 2 sqrt(1 - tol)) - log(tol)) / 2         (tol <= 1)

    A tol above the derivative's maximum (1/4, 1) saturates every finite z: returns -1.0.
    """
    V.choice(activation, 'activation', _SATURATING)
    t = V.param(tol, 'tol', positive=True)
    if not math.isfinite(t):
        raise ValueError(f"tol must be finite, got {tol!r}")
    if activation == 'sigmoid':
        if t > 0.25:
            return -1.0
        return math.log((1.0 - 2.0 * t) + math.sqrt(1.0 - 4.0 * t)) - math.log(2.0 * t)
    if t > 1.0:
        return -1.0
    return 0.5 * (math.log((2.0 - t) + 2.0 * math.sqrt(1.0 - t)) - math.log(t))


def _float32_floor(v):
    """The largest float32 <= v: |z| > v  <=>  |z| > this, for every float32 z."""
    f = np.float32(v)
    if float(f) > v:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def saturated_fraction(z, activation='sigmoid', tol=SATURATION_TOL):
    """Fraction of the elements of `z` (pre-activations, any shape) where f'(z) < tol for
    f = 'sigmoid' or 'tanh': ``np.mean(np.abs(z) > saturation_threshold(activation, tol))``
    (NaN never counts as saturated).  A Python float; nan for an empty z.

    Rule of thumb: a few percent is normal; tens of percent in a hidden layer means its
    inputs are too large (initialisation, learning rate, unnormalised data) and the layers
    below it learn slowly.
    """
    thr = saturation_threshold(activation, tol)
    count, n, _ = _k.count_abs_greater(z, _float32_floor(thr), thr, 'z')
    return count / n if n else math.nan


def dead_units(z):
    """Boolean array of shape z.shape[1:]: True for each unit (column of a (batch, units)
    array; every position of the trailing axes for N-d z) that is not positive for any
    sample of the batch (axis 0): ``~np.any(z > 0, axis=0)``.  Such a relu unit outputs 0
    and passes no gradient for the whole batch (a dead unit if it stays so).  z needs at
    least 2 dimensions; an empty batch marks every unit (vacuously), as NumPy does."""
    return _k.positive_counts(z, 'z') == 0


def dead_fraction(z):
    """Fraction of dead relu units of z (see dead_units): ``np.mean(~np.any(z > 0,
    axis=0))``.  A Python float; nan when there are no units."""
    dead = dead_units(z)
    return float(np.count_nonzero(dead) / dead.size) if dead.size else math.nan


class GradientNorms(NamedTuple):
    """Per-layer gradient summaries (float64 arrays of length L, layers in the order given,
    input side first) and ``ratio`` (length L-1), ``ratio[i] = l2[i] / l2[i+1]``: the
    factor by which the gradient's norm changed on its way back from layer i+1 to layer i.
    Ratios consistently far below 1 mean vanishing, far above 1 exploding gradients."""
    l2: np.ndarray
    rms: np.ndarray
    max_abs: np.ndarray
    ratio: np.ndarray

    def __str__(self):
        rows = [f"{'layer':>5} {'L2':>11} {'RMS':>11} {'max|g|':>11} {'L2 ratio':>9}"]
        for i in range(len(self.l2)):
            r = f"{self.ratio[i]:9.3g}" if i < len(self.ratio) else ''
            rows.append(f"{i:5d} {self.l2[i]:11.4g} {self.rms[i]:11.4g} "
                        f"{self.max_abs[i]:11.4g} {r}")
        return '\n'.join(rows)


def gradient_norms(grads):
    """L2 norm, RMS (L2 / sqrt(size)) and max |g| of each array of `grads` (a sequence of
    gradient arrays, one per layer, input side first), and the ratios of consecutive L2
    norms (see GradientNorms).  Squares are summed in float64 (also for float32 arrays) in
    fixed blocks added in order; float64 arrays with max |g| outside [1e-150, 1e150] are
    rescaled by a power of two first, so the norm neither overflows nor underflows.
    NumPy: ``np.sqrt(np.sum(g.astype(np.float64)**2))``, ``np.max(np.abs(g))``.
    An empty array has norms 0 (RMS nan); a NaN gives nan; 0/0 ratios are nan."""
    if isinstance(grads, np.ndarray) or not hasattr(grads, '__len__'):
        raise TypeError("grads must be a sequence (list or tuple) of arrays, one per layer; "
                        f"got {type(grads).__name__}")
    L = len(grads)
    l2, rms, mx = np.empty(L), np.empty(L), np.empty(L)
    for i, g in enumerate(grads):
        l2[i], mx[i], n = _k.l2_maxabs(g, f'grads[{i}]')
        rms[i] = l2[i] / math.sqrt(n) if n else math.nan
    with np.errstate(divide='ignore', invalid='ignore'):
        ratio = l2[:-1] / l2[1:] if L > 1 else np.empty(0)
    return GradientNorms(l2, rms, mx, ratio)
