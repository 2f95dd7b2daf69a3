"""Helpers of the NumPy reference: dtype rule and long double evaluation."""
import numpy as np

from .. import _validate as V

L = np.longdouble


def prepare(x, name='x'):
    """(x in long double, computation dtype) following fastloss's dtype rule."""
    arr = V._asarray(x, name)
    dt = V.computation_dtype(arr, name)
    return arr.astype(dt).astype(L), dt


def other(a, dt, name, shape=None):
    """Another float argument: rounded to the computation dtype first, as the kernels see it."""
    arr = V._asarray(a, name).astype(dt)
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have the same shape as input: {name} has shape "
                         f"{arr.shape}, input has shape {tuple(shape)}")
    return arr.astype(L)


def result(y, dt):
    """Round to the computation dtype; 0-d results become NumPy scalars."""
    out = np.asarray(y).astype(dt)
    return out[()] if out.ndim == 0 else out


def grad_times(d, g, dt, shape):
    return d if g is None else d * other(g, dt, 'grad_output', shape)
