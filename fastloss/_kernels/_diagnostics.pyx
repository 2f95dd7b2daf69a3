# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Diagnostics kernels: saturated units, dead relu units, gradient norms.

The loops live in fl_diag_tmpl.h (written once, instantiated for float and double, cloned
for AVX-512/AVX2/baseline).  This module takes arguments (fast path here, anything else
through fastloss._validate), releases the GIL and splits work over OpenMP threads above a
grain.  Counts are integers and sums are added in a fixed block order, so every result is
bitwise the same for any thread count.
"""
cimport numpy as cnp
from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free
from libc.math cimport sqrt, frexp, ldexp, INFINITY
from cython.parallel cimport prange
from fastloss._kernels._runtime cimport threads_for, split_point
from fastloss._kernels._common cimport is_fast, data
from fastloss import _validate as V

cnp.import_array()

cdef extern from "fl_diag_tmpl.h" nogil:
    Py_ssize_t FL_DIAG_BLOCK
    int64_t fl_diag_count_abs_gt_f(const void *x, Py_ssize_t n, double thr)
    int64_t fl_diag_count_abs_gt_d(const void *x, Py_ssize_t n, double thr)
    void fl_diag_pos_cols_f(const void *x, Py_ssize_t U, Py_ssize_t r0, Py_ssize_t r1,
                            int64_t *cnt)
    void fl_diag_pos_cols_d(const void *x, Py_ssize_t U, Py_ssize_t r0, Py_ssize_t r1,
                            int64_t *cnt)
    void fl_diag_sumsq_blocks_f(const void *x, Py_ssize_t n, Py_ssize_t b0, Py_ssize_t b1,
                                double scale, double *sumsq, double *maxabs)
    void fl_diag_sumsq_blocks_d(const void *x, Py_ssize_t n, Py_ssize_t b0, Py_ssize_t b1,
                                double scale, double *sumsq, double *maxabs)

# load + compare (+ add): memory bound, so a second thread pays off only on large arrays
cdef Py_ssize_t GRAIN = 262144


cdef cnp.ndarray _input(object z, str name):
    return <cnp.ndarray>z if is_fast(z) else V.as_input(z, name)


cdef int64_t count_part(bint f32, const char *x, Py_ssize_t n, double thr) noexcept nogil:
    if f32:
        return fl_diag_count_abs_gt_f(x, n, thr)
    return fl_diag_count_abs_gt_d(x, n, thr)


def count_abs_greater(object z, double thr32, double thr64, str name='z'):
    """(#{|z| > thr}, #elements, dtype) with thr = thr32 for float32 z, thr64 for float64
    (thr32 must be exactly representable in float32).  NaN is never counted."""
    cdef cnp.ndarray za = _input(z, name)
    cdef bint f32 = cnp.PyArray_TYPE(za) == cnp.NPY_FLOAT32
    cdef double thr = thr32 if f32 else thr64
    cdef const char *xp = data(za)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(za), isz = cnp.PyArray_ITEMSIZE(za), a, b
    cdef int nt = threads_for(n, GRAIN), t
    cdef int64_t total = 0
    cdef int64_t parts[64]
    if nt > 64:
        nt = 64
    with nogil:
        if nt <= 1:
            total = count_part(f32, xp, n, thr)
        else:
            for t in prange(nt, num_threads=nt, schedule='static'):
                a = split_point(n, nt, t, 64)
                b = split_point(n, nt, t + 1, 64)
                parts[t] = count_part(f32, xp + a * isz, b - a, thr)
            for t in range(nt):
                total += parts[t]
    return int(total), int(n), (<object>za).dtype


cdef void pos_part(bint f32, const char *x, Py_ssize_t U, Py_ssize_t r0, Py_ssize_t r1,
                   int64_t *cnt) noexcept nogil:
    if f32:
        fl_diag_pos_cols_f(x, U, r0, r1, cnt)
    else:
        fl_diag_pos_cols_d(x, U, r0, r1, cnt)


def positive_counts(object z, str name='z'):
    """int64 array of shape z.shape[1:]: how many rows (batch axis 0) are > 0 per unit."""
    cdef cnp.ndarray za = _input(z, name)
    if cnp.PyArray_NDIM(za) < 2:
        raise ValueError(f"{name} must have shape (batch, units, ...) with at least 2 "
                         f"dimensions, got shape {(<object>za).shape}")
    cdef bint f32 = cnp.PyArray_TYPE(za) == cnp.NPY_FLOAT32
    cdef Py_ssize_t rows = cnp.PyArray_DIM(za, 0)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(za)
    cdef Py_ssize_t U = 1
    cdef Py_ssize_t d                      # dimension index
    for d in range(1, cnp.PyArray_NDIM(za)):
        U *= cnp.PyArray_DIM(za, d)
    cdef cnp.ndarray cnt = V.zeros_f64(U).view('int64')   # zeroed int64 buffer
    cdef int64_t *cp = <int64_t *>cnp.PyArray_DATA(cnt)
    cdef const char *xp = data(za)
    cdef int nt = threads_for(n, GRAIN), t
    cdef Py_ssize_t j
    cdef int64_t *bufs
    if nt > rows:
        nt = <int>rows if rows > 1 else 1
    if nt <= 1:
        with nogil:
            pos_part(f32, xp, U, 0, rows, cp)
    else:
        # one private count vector per thread, added afterwards (integers: order-free)
        bufs = <int64_t *>calloc(<size_t>(nt * U), sizeof(int64_t))
        if bufs == NULL:
            raise MemoryError()
        with nogil:
            for t in prange(nt, num_threads=nt, schedule='static'):
                pos_part(f32, xp, U, split_point(rows, nt, t, 1),
                         split_point(rows, nt, t + 1, 1), bufs + t * U)
            for t in range(nt):
                for j in range(U):
                    cp[j] += bufs[t * U + j]
        free(bufs)
    return cnt.reshape((<object>za).shape[1:])


cdef void sumsq_part(bint f32, const char *x, Py_ssize_t n, Py_ssize_t b0, Py_ssize_t b1,
                     double scale, double *s, double *m) noexcept nogil:
    if f32:
        fl_diag_sumsq_blocks_f(x, n, b0, b1, scale, s, m)
    else:
        fl_diag_sumsq_blocks_d(x, n, b0, b1, scale, s, m)


cdef void sumsq_maxabs(bint f32, const char *x, Py_ssize_t n, double scale,
                       double *s_out, double *m_out, double *sb, double *mb) noexcept nogil:
    """Block sums of (scale x)^2 and block maxima, then combined in block order."""
    cdef Py_ssize_t nb = (n + FL_DIAG_BLOCK - 1) // FL_DIAG_BLOCK, k
    cdef int nt = threads_for(n, GRAIN), t
    if nt > nb:
        nt = <int>nb
    if nt <= 1:
        sumsq_part(f32, x, n, 0, nb, scale, sb, mb)
    else:
        for t in prange(nt, num_threads=nt, schedule='static'):
            sumsq_part(f32, x, n, split_point(nb, nt, t, 1), split_point(nb, nt, t + 1, 1),
                       scale, sb, mb)
    cdef double s = 0.0, m = 0.0
    for k in range(nb):
        s += sb[k]
        if mb[k] > m:
            m = mb[k]
    s_out[0] = s
    m_out[0] = m


def l2_maxabs(object g, str name='grads'):
    """(L2 norm, max |g|, size) of an array, squares summed in float64 over fixed blocks.
    float64 arrays whose max |g| lies outside [1e-150, 1e150] get a second pass over
    (2^k g)^2 with 2^k ~ 1/max |g| (exact scaling), so the squares neither overflow nor
    underflow.  A NaN anywhere gives (nan, nan); an inf (and no NaN) gives (inf, inf)."""
    cdef cnp.ndarray ga = _input(g, name)
    cdef bint f32 = cnp.PyArray_TYPE(ga) == cnp.NPY_FLOAT32
    cdef const char *xp = data(ga)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(ga)
    if n == 0:
        return 0.0, 0.0, 0
    cdef Py_ssize_t nb = (n + FL_DIAG_BLOCK - 1) // FL_DIAG_BLOCK
    cdef cnp.ndarray work = V.zeros_f64(2 * nb)
    cdef double *sb = <double *>cnp.PyArray_DATA(work)
    cdef double s = 0.0, m = 0.0, m2 = 0.0, scale = 1.0
    cdef int e                             # a binary exponent, not an index
    with nogil:
        sumsq_maxabs(f32, xp, n, 1.0, &s, &m, sb, sb + nb)
        if s != s:
            m = s                            # a NaN in the data
        elif not f32 and (m > 1e150 or 0.0 < m < 1e-150) and m < INFINITY:
            frexp(m, &e)
            e = -1000 if e > 1000 else (1000 if e < -1000 else -e)
            scale = ldexp(1.0, e)
            sumsq_maxabs(f32, xp, n, scale, &s, &m2, sb, sb + nb)
    return sqrt(s) / scale, m, n
