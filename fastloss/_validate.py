"""The one place where arguments are checked and coerced (API.md, "Arrays, dtypes, errors").

Kernels accept exact, aligned, native-endian, C-contiguous float32/float64 arrays without
calling into this module; everything else comes here:

* computation dtype: float32/float64 stay; float16 -> float32; bool, integers and other
  real inputs (lists, scalars) -> float64; complex/object/str/bytes -> TypeError.
* the first array argument decides the dtype; the others are converted to it;
* shapes must match exactly (no broadcasting) unless a function documents otherwise;
* ``out=`` must be a writeable ndarray of the result's shape and dtype;
* reductions are 'mean' | 'sum' | 'none'.
"""
import math
import operator

import numpy as np

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)
REDUCTIONS = ('mean', 'sum', 'none')
_REDUCTION_CODE = {'none': 0, 'mean': 1, 'sum': 2}


def _describe(a):
    if isinstance(a, np.ndarray):
        return f"array of dtype {a.dtype}"
    return f"{type(a).__name__}"


def computation_dtype(a, name):
    """The dtype a kernel computes in when `a` is the first array argument."""
    arr = a if isinstance(a, np.ndarray) else _asarray(a, name)
    dt = arr.dtype
    if dt.kind == 'f':
        if dt.itemsize == 4:
            return F32
        if dt.itemsize == 8:
            return F64
        if dt.itemsize == 2:
            return F32
        return F64                       # longdouble: computed in float64
    if dt.kind in 'biu':
        return F64
    raise TypeError(f"{name}: expected a real numeric array, got {_describe(arr)}"
                    + (f" with dtype {dt}" if not isinstance(a, np.ndarray) else ""))


def _asarray(a, name):
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as e:   # ragged lists and the like
        raise TypeError(f"{name}: cannot be converted to an array ({e})") from None
    if arr.dtype.kind not in 'biuf':
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype} "
                        f"(from {type(a).__name__})")
    return arr


def _contiguous(arr, dtype):
    """C-contiguous, aligned, native-endian copy when needed (0-d stays 0-d)."""
    return np.require(arr, dtype=dtype, requirements=('C', 'A'))


def as_input(a, name='x'):
    """The first array argument as a C-contiguous native array of its computation dtype."""
    arr = _asarray(a, name)
    return _contiguous(arr, computation_dtype(arr, name))


def as_dtype(a, dtype, name):
    """Any other float argument (target, weight, grad_output), converted to `dtype`."""
    return _contiguous(_asarray(a, name), dtype)


def as_like(a, ref, name, ref_name='input'):
    """`a` converted to ref's dtype; its shape must equal ref's exactly."""
    arr = as_dtype(a, ref.dtype, name)
    if arr.shape != ref.shape:
        raise ValueError(f"{name} must have the same shape as {ref_name}: "
                         f"{name} has shape {arr.shape}, {ref_name} has shape {ref.shape}")
    return arr


def out_buffer(out, ref, name='out'):
    """Check out= (writeable ndarray, ref's shape and dtype) and return an array the kernel
    can write: `out` itself when it is C-contiguous, else a temporary copied back later."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != ref.dtype:
        raise TypeError(f"{name} must have dtype {ref.dtype}, got {out.dtype}")
    if out.shape != ref.shape:
        raise ValueError(f"{name} must have shape {ref.shape}, got {out.shape}")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    if out.flags.c_contiguous and out.flags.aligned and out.dtype.isnative:
        return out
    return np.empty(ref.shape, ref.dtype)


def overlaps(a, b):
    return np.may_share_memory(a, b)


def reduction_code(reduction, allowed=REDUCTIONS):
    """0 none, 1 mean, 2 sum (3 batchmean where allowed)."""
    if isinstance(reduction, str) and reduction in allowed:
        return _REDUCTION_CODE.get(reduction, 3)
    raise ValueError(f"reduction must be one of {', '.join(map(repr, allowed))}; "
                     f"got {reduction!r}")


def normalize_axis(axis, ndim, name='axis'):
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(axis).__name__}") from None
    if not -ndim <= ax < ndim:
        raise ValueError(f"{name}={axis} is out of range for an array of {ndim} dimension"
                         f"{'s' if ndim != 1 else ''}")
    return ax % ndim


def axis_split(shape, axis, name='axis'):
    """(outer, C, inner) for a C-contiguous array of `shape` reduced along `axis`.
    A 0-d array is one element along axis 0 (or -1)."""
    if len(shape) == 0:
        normalize_axis(axis, 1, name)
        return 1, 1, 1
    ax = normalize_axis(axis, len(shape), name)
    return math.prod(shape[:ax]), shape[ax], math.prod(shape[ax + 1:])


def prelu_weight(weight, x):
    """PReLU weight: shape (1,) or (C,) with C = x.shape[1] (one channel when x.ndim < 2)."""
    w = as_dtype(weight, x.dtype, 'weight')
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.ndim != 1 or w.shape[0] not in (1, channels):
        raise ValueError(f"weight must have shape (1,) or ({channels},) (channels on axis 1 of "
                         f"x, shape {x.shape}); got shape {w.shape}")
    return w


def zeros_f64(n):
    return np.zeros(n, np.float64)


def param(value, name, positive=False, nonnegative=False):
    """A scalar float parameter (negative_slope, alpha, beta, eps, ...), optionally > 0 or
    >= 0 (NaN is neither)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}") from None
    if positive and not v > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonnegative and not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def int64_param(value, name):
    """A scalar integer parameter that the kernels hold as int64 (ignore_index, ...)."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if not -2**63 <= v < 2**63:
        raise ValueError(f"{name}={v} is outside the int64 range")
    return v


def partial_overlap(out, a):
    """out (C-contiguous, a's shape) shares memory with `a` but not element for element:
    an elementwise kernel writing out[i] after reading a[i] would read clobbered values."""
    return (a is not None and out is not a and np.may_share_memory(out, a)
            and (out.__array_interface__['data'][0] != a.__array_interface__['data'][0]
                 or out.strides != a.strides))


def choice(value, name, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; "
                         f"got {value!r}")
    return value


# ---- losses -----------------------------------------------------------------------------

def as_class_indices(target, name='target'):
    """Class-index targets: any integer dtype, returned as a C-contiguous int64 array.
    Floats (or anything else) -> TypeError.  uint64 values >= 2**63 -> ValueError.
    The range check against [0, C) is done inside the kernels, without an extra pass."""
    arr = np.asarray(target)
    if arr.dtype.kind not in 'iu':
        raise TypeError(f"{name}: class indices must have an integer dtype, got {arr.dtype}"
                        + (" (use probabilities of the input's shape for soft targets)"
                           if arr.dtype.kind == 'f' else ""))
    if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        pos = int(np.argmax(arr > np.iinfo(np.int64).max))
        raise ValueError(f"{name}: class index {arr.flat[pos]} at position {pos} is out of range")
    return np.require(arr, dtype=np.int64, requirements=('C', 'A'))


def reduced(total, count, code, dtype):
    """The value of a reduced loss from its float64 sum over `count` terms:
    mean (code 1) -> total / count (nan when count == 0), sum (code 2) -> total;
    returned as a NumPy scalar of the computation dtype."""
    if code == 1:
        return dtype.type(total / count if count else np.nan)
    return dtype.type(total)


def grad_scale(code, count, grad_output, dtype, shape):
    """(scalar factor, per-element grad_output array or None) for a loss gradient:
    mean -> grad_output / count, sum -> grad_output, none -> grad_output array of `shape`."""
    if code == 0:
        if grad_output is None:
            return 1.0, None
        g = as_dtype(grad_output, dtype, 'grad_output')
        if g.shape != tuple(shape):
            raise ValueError(f"grad_output must have the unreduced loss's shape {tuple(shape)} "
                             f"for reduction='none', got {g.shape}")
        return 1.0, g
    g = 1.0
    if grad_output is not None:
        arr = _asarray(grad_output, 'grad_output')
        if arr.size != 1:
            raise ValueError(f"grad_output must be a scalar for reduction='mean' or 'sum', "
                             f"got shape {arr.shape}")
        g = float(arr.reshape(()))
    return (g / count if count else np.nan) if code == 1 else g, None


def class_targets(x, target, weight, axis, soft=True, name='target'):
    """Targets and class weights of a cross-entropy-type loss on `x` with classes on `axis`.
    Returns (t, is_index, w): class indices of x's shape without `axis` (any integer dtype,
    via as_class_indices) -> int64 array, True; with soft=True, class probabilities of x's
    own shape (float) -> array of x's dtype, False.  Integer targets of x's shape or float
    targets where indices are expected -> TypeError; any other shape -> ValueError naming
    both shapes.  weight: None, or shape (C,) converted to x's dtype."""
    arr = target if isinstance(target, np.ndarray) else _asarray(target, name)
    want = x.shape[:axis] + x.shape[axis + 1:]
    if soft and arr.shape == x.shape and arr.shape != want:
        if arr.dtype.kind != 'f':
            raise TypeError(f"{name}: class probabilities (the input's shape {x.shape}) must "
                            f"be floating point, got dtype {arr.dtype}")
        t, is_index = as_dtype(arr, x.dtype, name), False
    elif arr.shape == want:
        t, is_index = as_class_indices(arr, name), True
    else:
        raise ValueError(f"{name} must have shape {want} (class indices: input's shape "
                         f"{x.shape} without axis {axis})"
                         + (f" or {x.shape} (class probabilities)" if soft else "")
                         + f"; got shape {arr.shape}")
    w = None
    if weight is not None:
        w = as_dtype(weight, x.dtype, 'weight')
        if w.shape != (x.shape[axis],):
            raise ValueError(f"weight must have shape ({x.shape[axis]},) (one weight per "
                             f"class), got shape {w.shape}")
    return t, is_index, w


def broadcast_like(a, ref, name, ref_name='input'):
    """A weight-like argument converted to ref's dtype and broadcast by NumPy's rules to
    ref's shape exactly (so a (C,) vector applies along the last axis), C-contiguous.
    Not broadcastable -> ValueError naming both shapes."""
    arr = as_dtype(a, ref.dtype, name)
    if arr.shape != ref.shape:
        try:
            arr = np.ascontiguousarray(np.broadcast_to(arr, ref.shape))
        except ValueError:
            raise ValueError(f"{name} of shape {arr.shape} does not broadcast to the shape "
                             f"{ref.shape} of {ref_name}") from None
    return arr


def ctc_arguments(log_probs, targets, input_lengths, target_lengths, blank):
    """CTC arguments, PyTorch's layout: log_probs (T, N, C), or (T, C) for one unbatched
    sequence; targets padded (N, S) or concatenated 1-D (unbatched: (S,)); lengths of any
    integer dtype, N entries (0-d allowed unbatched), 0 <= input_length <= T, target_length
    <= S (padded; concatenated: their sum <= len(targets)); used labels in [0, C) and
    != blank; blank in [0, C).  Returns (log_probs (2-D or 3-D, C-contiguous), flat int64
    targets, int64 offset of each sequence's targets, int64 input_lengths, int64
    target_lengths, blank)."""
    lp = as_input(log_probs, 'log_probs')
    if lp.ndim not in (2, 3):
        raise ValueError(f"log_probs must have shape (T, N, C) or (T, C), got shape {lp.shape}")
    T, C, N = lp.shape[0], lp.shape[-1], (lp.shape[1] if lp.ndim == 3 else 1)
    try:
        b = operator.index(blank)
    except TypeError:
        raise TypeError(f"blank must be an integer, got {type(blank).__name__}") from None
    if not 0 <= b < C:
        raise ValueError(f"blank must be in [0, C) = [0, {C}), got {blank}")

    def lengths(a, name, bound, what):
        arr = np.asarray(a)
        if arr.dtype.kind not in 'iu' and arr.size:      # [] (float64) is fine when N = 0
            raise TypeError(f"{name} must have an integer dtype, got {arr.dtype}")
        if arr.ndim > 1 or arr.size != N:
            raise ValueError(f"{name} must have {N} entries (one per sequence), got shape "
                             f"{arr.shape}")
        arr = arr.reshape(N)
        bad = (arr < 0) | (arr > bound)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{name}[{i}] = {arr[i]} is outside [0, {bound}] ({what})")
        return arr.astype(np.int64)

    il = lengths(input_lengths, 'input_lengths', T, 'T = log_probs.shape[0]')
    tg = as_class_indices(targets, 'targets')
    if lp.ndim == 2 and tg.ndim != 1:
        raise ValueError(f"targets must be 1-D for unbatched log_probs, got shape {tg.shape}")
    if tg.ndim == 2 and tg.shape[0] != N or tg.ndim not in (1, 2):
        raise ValueError(f"targets must have shape ({N}, S) or be 1-D (concatenated), "
                         f"got shape {tg.shape}")
    padded = tg.ndim == 2 or lp.ndim == 2
    S = tg.shape[-1] if padded else tg.size
    tl = lengths(target_lengths, 'target_lengths', S,
                 'targets.shape[1]' if tg.ndim == 2 else 'len(targets)')
    if padded:
        offsets = np.arange(N, dtype=np.int64) * S
        used = np.arange(S) < tl[:, None]
    else:
        if tl.sum() > S:
            raise ValueError(f"target_lengths sum to {tl.sum()} but the concatenated targets "
                             f"have {S} labels")
        offsets = np.concatenate(([0], np.cumsum(tl)[:-1])).astype(np.int64)[:N]
        used = np.arange(S) < tl.sum()
    tg = tg.reshape(-1)
    bad = used.reshape(-1) & ((tg < 0) | (tg >= C) | (tg == b))
    if bad.any():
        pos = int(np.argmax(bad))
        where = divmod(pos, S) if padded and lp.ndim == 3 else pos
        raise ValueError(f"targets: label {tg[pos]} at position {where} "
                         + (f"equals blank={b}" if tg[pos] == b else f"is outside [0, C) = [0, {C})"))
    return lp, tg, offsets, il, tl, b
