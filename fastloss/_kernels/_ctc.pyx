# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""CTC loss kernel: log-space forward-backward (fl_ctc_tmpl.h), parallel over the batch.

Arguments are checked and coerced by fastloss._validate.ctc_arguments; each sequence is
independent, so the per-sequence losses (and gradient columns) are the same for any thread
count, and the reductions add them in batch order in float64.
"""
cimport numpy as cnp
from cython.parallel cimport prange, parallel
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from fastloss._kernels._runtime cimport threads_for
from fastloss._kernels._common cimport empty_like, data
from fastloss import _validate as V
import numpy as np

cnp.import_array()

cdef extern from "fl_ctc.h" nogil:
    size_t fl_ctc_work_bytes(Py_ssize_t steps, Py_ssize_t smax, Py_ssize_t C, int grad,
                             size_t size)
    double fl_ctc_one_f(const float *lp, Py_ssize_t rs, Py_ssize_t C, const int64_t *tg,
                        Py_ssize_t tl, Py_ssize_t len, Py_ssize_t steps, Py_ssize_t blank,
                        float *grad, double gr, int zero_infinity, char *work)
    double fl_ctc_one_d(const double *lp, Py_ssize_t rs, Py_ssize_t C, const int64_t *tg,
                        Py_ssize_t tl, Py_ssize_t len, Py_ssize_t steps, Py_ssize_t blank,
                        double *grad, double gr, int zero_infinity, char *work)

# (time step x (state + class)) cells per thread before a second thread pays off
cdef Py_ssize_t GRAIN = 32768


cdef struct Batch:
    const char *lp
    char *grad
    const int64_t *tg
    const int64_t *off
    const int64_t *il
    const int64_t *tl
    const double *gr
    double *loss
    Py_ssize_t steps, N, C, blank
    size_t work_bytes
    bint f32, zero_infinity


cdef void one(const Batch *p, Py_ssize_t b, char *work) noexcept nogil:
    """Sequence b: its loss into p.loss[b], its gradient column when p.grad != NULL."""
    cdef Py_ssize_t rs = p.N * p.C, o = b * p.C
    if p.f32:
        p.loss[b] = fl_ctc_one_f(<const float *>p.lp + o, rs, p.C, p.tg + p.off[b], p.tl[b],
                                 p.il[b], p.steps, p.blank,
                                 <float *>p.grad + o if p.grad != NULL else NULL,
                                 p.gr[b] if p.gr != NULL else 0.0, p.zero_infinity, work)
    else:
        p.loss[b] = fl_ctc_one_d(<const double *>p.lp + o, rs, p.C, p.tg + p.off[b], p.tl[b],
                                 p.il[b], p.steps, p.blank,
                                 <double *>p.grad + o if p.grad != NULL else NULL,
                                 p.gr[b] if p.gr != NULL else 0.0, p.zero_infinity, work)


cdef int run(const Batch *p, int nt) noexcept nogil:
    """All sequences, one workspace per thread; -1 when out of memory."""
    cdef char *work = NULL
    cdef Py_ssize_t b
    cdef int failed = 0
    cdef int *failp = &failed       # shared: a plain variable set in the block is private
    if nt <= 1:
        work = <char *>malloc(p.work_bytes)
        if work == NULL:
            return -1
        for b in range(p.N):
            one(p, b, work)
        free(work)
        return 0
    with parallel(num_threads=nt):
        work = <char *>malloc(p.work_bytes)
        if work == NULL:
            failp[0] = 1
        else:
            for b in prange(p.N, schedule='dynamic'):
                one(p, b, work)
            free(work)
    return -1 if failed else 0


def ctc(object log_probs, object targets, object input_lengths, object target_lengths,
        object blank, object reduction, bint zero_infinity, int mode, object grad_output,
        object out):
    """mode 0: value; 1: gradient; 2: (value, gradient)."""
    cdef cnp.ndarray lp, tg, off, il, tl
    lp, tg, off, il, tl, blank = V.ctc_arguments(log_probs, targets, input_lengths,
                                                  target_lengths, blank)
    cdef int code = V.reduction_code(reduction)
    dtype = lp.dtype
    cdef bint batched = cnp.PyArray_NDIM(lp) == 3
    cdef Py_ssize_t N = cnp.PyArray_DIM(lp, 1) if batched else 1, b
    cdef Batch p
    p.steps = cnp.PyArray_DIM(lp, 0)
    p.C = cnp.PyArray_DIM(lp, cnp.PyArray_NDIM(lp) - 1)
    p.N = N
    p.blank = blank
    p.f32 = cnp.PyArray_TYPE(lp) == cnp.NPY_FLOAT32
    p.zero_infinity = zero_infinity
    p.lp = data(lp)
    p.tg = <const int64_t *>cnp.PyArray_DATA(tg)
    p.off = <const int64_t *>cnp.PyArray_DATA(off)
    p.il = <const int64_t *>cnp.PyArray_DATA(il)
    p.tl = <const int64_t *>cnp.PyArray_DATA(tl)
    cdef cnp.ndarray loss = np.empty(N, np.float64)
    p.loss = <double *>cnp.PyArray_DATA(loss)
    cdef Py_ssize_t smax = tl.max() if N else 0
    p.work_bytes = fl_ctc_work_bytes(p.steps, smax, p.C, mode != 0,
                                     cnp.PyArray_ITEMSIZE(lp))

    # d(reduced loss)/d(loss_b) for each sequence
    cdef cnp.ndarray gr = None, ga = None, g = None
    p.grad = NULL
    p.gr = NULL
    if mode != 0:
        scale, g = V.grad_scale(code, N, grad_output, dtype, (N,) if batched else ())
        if code == 0:
            gr = np.ones(N) if g is None else g.reshape(N).astype(np.float64)
        elif code == 1:
            gr = scale / np.maximum(tl, 1).astype(np.float64)
        else:
            gr = np.full(N, scale, np.float64)
        p.gr = <const double *>cnp.PyArray_DATA(gr)
        if out is None:
            ga = empty_like(lp)
        else:
            ga = V.out_buffer(out, lp)
            if ga is not lp and V.overlaps(ga, lp):
                ga = empty_like(lp)      # partial overlap: the kernel reads lp after writing
        p.grad = data(ga)

    cdef Py_ssize_t L = 2 * smax + 1
    cdef int nt = threads_for(p.steps * N * (L + p.C), GRAIN)
    if nt > N:
        nt = <int>N
    cdef int rc                            # status code, not an index
    with nogil:
        rc = run(&p, nt)
    if rc != 0:
        raise MemoryError("ctc_loss: cannot allocate the forward-backward workspace")

    value = None
    cdef double total = 0.0
    if mode != 1:
        if code == 0:
            value = loss.astype(dtype) if batched else dtype.type(loss[0])
        else:
            for b in range(N):          # batch order: the same bits for any thread count
                if code == 1:
                    total += p.loss[b] / (p.tl[b] if p.tl[b] > 1 else 1)
                else:
                    total += p.loss[b]
            value = V.reduced(total, N, code, dtype)
    if mode == 0:
        return value
    if out is not None and ga is not out:
        out[...] = ga
        ga = out
    return ga if mode == 1 else (value, ga)
