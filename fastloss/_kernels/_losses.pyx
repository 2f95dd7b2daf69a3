# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Elementwise loss kernels: value, gradient and the fused value-and-gradient.

The formulas and block loops live in fl_loss_tmpl.h (written once, instantiated for float
and double, cloned for AVX-512/AVX2/baseline).  This module takes the arguments (fast path
here, anything else through fastloss._validate), releases the GIL, splits the blocks over
OpenMP threads, and adds the float64 block sums in block order (same bits for any thread
count).
"""
cimport numpy as cnp
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cython.parallel cimport prange
from fastloss._kernels._runtime cimport threads_for, split_point
from fastloss._kernels._common cimport is_fast, is_fast_like, is_fast_out, empty_like, data
from fastloss import _validate as V
import numpy as np

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void *data, cnp.dtype descr, object base)

cdef extern from "fl_losses.h" nogil:
    enum: FL_LOSS_BLOCK
    ctypedef struct fl_loss_args:
        const void *x
        const void *t
        const void *w
        const void *pw
        const void *g
        void *loss
        void *grad
        double *sums
        double scale
        double p0
        double p1
        int mode
    ctypedef Py_ssize_t (*fl_loss_fn)(const fl_loss_args *a, Py_ssize_t i0,
                                      Py_ssize_t i1) noexcept nogil
    fl_loss_fn fl_loss_table_f[17]
    fl_loss_fn fl_loss_table_d[17]

# kernel codes: the order of fl_loss_table_* in fl_loss_tmpl.h
KERNELS = ('mse', 'l1', 'huber', 'smooth_l1', 'msle', 'mape', 'bce', 'bce_logits', 'hinge',
           'squared_hinge', 'exponential', 'kl_div', 'kl_div_log', 'poisson_log',
           'poisson_log_full', 'poisson', 'poisson_full')
cdef enum:
    NK = 17
    NSTACK = 32           # block sums kept on the stack (inputs up to 32 blocks)
    NOGIL_MIN = 8192      # elements from which the GIL is released
    NT_MAX = 256          # threads per call (first-bad-element slots on the stack)
cdef int K_BCE = 6, K_BCE_LOGITS = 7, K_HINGE = 8, K_EXP = 10, K_KL = 11, K_KL_LOG = 12
# elements before a second thread pays off: load/store-bound losses need more
cdef Py_ssize_t GRAIN_CHEAP = 262144, GRAIN_MATH = 32768
cdef Py_ssize_t GRAIN[NK]
GRAIN[:] = [GRAIN_CHEAP, GRAIN_CHEAP, GRAIN_CHEAP, GRAIN_CHEAP, GRAIN_MATH, GRAIN_CHEAP,
            GRAIN_MATH, GRAIN_MATH, GRAIN_CHEAP, GRAIN_CHEAP, GRAIN_MATH, GRAIN_MATH,
            GRAIN_MATH, GRAIN_MATH, GRAIN_MATH, GRAIN_MATH, GRAIN_MATH]
KL_REDUCTIONS = ('mean', 'sum', 'none', 'batchmean')

cdef cnp.dtype F32 = np.dtype(np.float32), F64 = np.dtype(np.float64)


cdef Py_ssize_t run(fl_loss_fn fn, fl_loss_args *a, Py_ssize_t n,
                    Py_ssize_t grain) noexcept nogil:
    """fn over [0, n): whole blocks split over the threads above the grain.  Returns the
    index of the first element the kernel's input check flagged, or -1."""
    cdef int nt = threads_for(n, grain), t
    cdef Py_ssize_t nb = (n + FL_LOSS_BLOCK - 1) // FL_LOSS_BLOCK, lo, hi
    cdef Py_ssize_t first[NT_MAX]
    if nt <= 1:
        return fn(a, 0, n)
    if nt > NT_MAX:
        nt = NT_MAX
    for t in prange(nt, num_threads=nt, schedule='static'):
        lo = split_point(nb, nt, t, 1) * FL_LOSS_BLOCK
        hi = split_point(nb, nt, t + 1, 1) * FL_LOSS_BLOCK
        first[t] = fn(a, lo, hi if hi < n else n)
    for t in range(nt):                 # thread t's range precedes thread t+1's
        if first[t] >= 0:
            return first[t]
    return -1


cdef object scalar(double v, bint f32):
    """A NumPy scalar of the computation dtype."""
    cdef float vf = <float>v
    if f32:
        return PyArray_Scalar(&vf, F32, None)
    return PyArray_Scalar(&v, F64, None)


cdef int reduction_of(object reduction, int k) except -1:
    """0 none, 1 mean, 2 sum, 3 batchmean (kl_div only)."""
    if type(reduction) is str:
        if reduction == 'mean':
            return 1
        if reduction == 'sum':
            return 2
        if reduction == 'none':
            return 0
    if k == K_KL or k == K_KL_LOG:
        return V.reduction_code(reduction, KL_REDUCTIONS)
    return V.reduction_code(reduction)


def loss(int k, object input, object target, object reduction, int form, double p0,
         double p1, object weight, object pos_weight, object grad_output, object out):
    """Loss kernel k: form 0 value, 1 gradient (into out= if given), 2 (value, gradient).

    weight / pos_weight broadcast to input (NumPy rules); grad_output is a scalar for
    mean/sum, an array of input's shape for 'none'."""
    cdef cnp.ndarray xa = <cnp.ndarray>input if is_fast(input) else V.as_input(input, 'input')
    cdef cnp.ndarray ta = (<cnp.ndarray>target if is_fast_like(target, xa)
                           else V.as_like(target, xa, 'target'))
    cdef int red = reduction_of(reduction, k)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa), count = n
    if red == 3:                                  # batchmean: sum / input.shape[0]
        count = cnp.PyArray_DIMS(xa)[0] if cnp.PyArray_NDIM(xa) > 0 else 1
        red = 1
    cdef bint f32 = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    cdef fl_loss_args a
    a.x = data(xa)
    a.t = data(ta)
    a.w = a.pw = a.g = a.loss = a.grad = NULL
    a.sums = NULL
    a.p0 = p0
    a.p1 = p1
    a.scale = 1.0
    cdef int L = 0, G = 0, W = 0
    cdef cnp.ndarray wa = None, pwa = None, ga = None, la = None, gra = None
    if weight is not None or pos_weight is not None:
        W = 1
        wa = V.broadcast_like(1.0 if weight is None else weight, xa, 'weight')
        pwa = (V.broadcast_like(1.0 if pos_weight is None else pos_weight, xa, 'pos_weight')
               if k == K_BCE_LOGITS else wa)
        a.w = data(wa)
        a.pw = data(pwa)
    if form != 1:
        L = 1 if red else 2
    if form != 0:
        if red == 0:
            G = 1
            if grad_output is not None:
                G = 2
                ga = (<cnp.ndarray>grad_output if is_fast_like(grad_output, xa)
                      else V.grad_scale(0, n, grad_output, (<object>xa).dtype,
                                        (<object>xa).shape)[1])
                a.g = data(ga)
        else:
            G = 1
            if grad_output is not None:
                a.scale = V.grad_scale(red, count, grad_output, (<object>xa).dtype,
                                       (<object>xa).shape)[0]
            elif red == 1:
                a.scale = 1.0 / count if count else float('nan')
        if out is None:
            gra = empty_like(xa)
        else:
            gra = <cnp.ndarray>out if is_fast_out(out, xa) else V.out_buffer(out, xa)
            if (V.partial_overlap(gra, xa) or V.partial_overlap(gra, ta)
                    or V.partial_overlap(gra, ga) or V.partial_overlap(gra, wa)
                    or V.partial_overlap(gra, pwa)):
                gra = empty_like(xa)    # out[i] written before x[i + k] is read
        a.grad = data(gra)
    if L == 2:
        la = empty_like(xa)
        a.loss = data(la)
    a.mode = L + 3 * G + 9 * W

    cdef double sbuf[NSTACK]
    cdef Py_ssize_t nb = (n + FL_LOSS_BLOCK - 1) // FL_LOSS_BLOCK, i
    cdef double total = 0.0
    cdef Py_ssize_t bad
    a.sums = sbuf
    if L == 1 and nb > NSTACK:
        a.sums = <double *>PyMem_Malloc(nb * sizeof(double))
        if a.sums == NULL:
            raise MemoryError()
    cdef fl_loss_fn fn = fl_loss_table_f[k] if f32 else fl_loss_table_d[k]
    if n < NOGIL_MIN:                  # tiny inputs: releasing the GIL costs more than the work
        bad = run(fn, &a, n, GRAIN[k])
    else:
        with nogil:
            bad = run(fn, &a, n, GRAIN[k])
    if L == 1:
        for i in range(nb):
            total += a.sums[i]
    if a.sums != sbuf:
        PyMem_Free(a.sums)
    if bad >= 0:
        raise_bad_input(k, xa, ta, bad)

    cdef object value = None
    if form != 1:
        if L == 2:
            value = la
        elif red == 1:
            value = scalar(total / count if count else float('nan'), f32)
        else:
            value = scalar(total, f32)
        if form == 0:
            return value
    if out is not None and gra is not out:
        out[...] = gra
        gra = out
    if form == 1:
        return gra
    return value, gra


cdef raise_bad_input(int k, cnp.ndarray x, cnp.ndarray t, Py_ssize_t pos):
    """The kernel flagged element `pos` (the first bad one): name it."""
    if k == K_BCE:
        raise ValueError(f"input: binary_cross_entropy expects probabilities in [0, 1], got "
                         f"{float(x.flat[pos])!r} at position {pos} (for logits use "
                         f"binary_cross_entropy_with_logits)")
    raise ValueError(f"target: values must be -1 or +1, got {float(t.flat[pos])!r} at position {pos} "
                     f"(for 0/1 labels pass 2*target-1)")
