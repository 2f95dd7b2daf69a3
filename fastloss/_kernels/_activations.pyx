# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Activation kernels: elementwise ops, softmax family along an axis, PReLU.

The typed loops live in fl_act_tmpl.h (written once, instantiated for float and double,
cloned for AVX-512/AVX2/baseline).  This module takes arguments (fast path here, anything
else through fastloss._validate), releases the GIL and splits work over OpenMP threads.
"""
cimport numpy as cnp
from cython.parallel cimport prange
from fastloss._kernels._runtime cimport threads_for, split_point
from fastloss._kernels._common cimport (is_fast, is_fast_like, is_fast_out, empty_like, data,
                                        use_gathers)
from fastloss import _validate as V

cnp.import_array()

cdef extern from "fl_kernels.h" nogil:
    ctypedef void (*fl_block_fn)(const void *x, const void *g, void *y, Py_ssize_t n,
                                 double p0, double p1) noexcept nogil
    fl_block_fn fl_unary_table_f[11]
    fl_block_fn fl_unary_table_d[11]
    fl_block_fn fl_unary_grad_table_f[11]
    fl_block_fn fl_unary_grad_table_d[11]
    void fl_softmax_rows_f(const void *x, const void *g, void *y, Py_ssize_t C,
                           Py_ssize_t l0, Py_ssize_t l1, int mode)
    void fl_softmax_rows_d(const void *x, const void *g, void *y, Py_ssize_t C,
                           Py_ssize_t l0, Py_ssize_t l1, int mode)
    void fl_softmax_short_f(const void *x, const void *g, void *y, Py_ssize_t C,
                            Py_ssize_t l0, Py_ssize_t l1, int mode)
    void fl_softmax_short_d(const void *x, const void *g, void *y, Py_ssize_t C,
                            Py_ssize_t l0, Py_ssize_t l1, int mode)
    void fl_softmax_strided_f(const void *x, const void *g, void *y, Py_ssize_t C,
                              Py_ssize_t inner, Py_ssize_t l0, Py_ssize_t l1, int mode)
    void fl_softmax_strided_d(const void *x, const void *g, void *y, Py_ssize_t C,
                              Py_ssize_t inner, Py_ssize_t l0, Py_ssize_t l1, int mode)
    enum: FL_SHORT_ROW_BYTES
    void fl_prelu_rows_f(const void *x, const void *w, const void *g, void *y, double *gw,
                         Py_ssize_t C, Py_ssize_t inner, Py_ssize_t r0, Py_ssize_t r1)
    void fl_prelu_rows_d(const void *x, const void *w, const void *g, void *y, double *gw,
                         Py_ssize_t C, Py_ssize_t inner, Py_ssize_t r0, Py_ssize_t r1)

# op codes: the order of fl_unary_table_* in fl_act_tmpl.h
OPS = ('identity', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'elu', 'softplus',
       'log_sigmoid', 'silu', 'gelu', 'gelu_tanh')
# elements per thread before a second thread pays off: load/store-bound ops need more
cdef Py_ssize_t GRAIN_CHEAP = 32768, GRAIN_MATH = 32768
cdef Py_ssize_t GRAIN[11]
GRAIN[:] = [GRAIN_CHEAP, GRAIN_MATH, GRAIN_MATH, GRAIN_CHEAP, GRAIN_CHEAP, GRAIN_MATH,
            GRAIN_MATH, GRAIN_MATH, GRAIN_MATH, GRAIN_MATH, GRAIN_MATH]


cdef void run_blocks(fl_block_fn fn, const char *x, const char *g, char *y, Py_ssize_t n,
                     Py_ssize_t itemsize, double p0, double p1, Py_ssize_t grain) noexcept nogil:
    """fn over [0, n), cut into one contiguous part per thread above the grain.  The first
    elements up to a 64-byte boundary of y go first on their own, so that the vector loops
    store whole cache lines (NumPy's buffers start 16 bytes into one; split stores cost ~35%
    on L2-resident relu, ~3% on the exp-based kernels), and so do x's loads when x and y are
    equally aligned, as NumPy's buffers are."""
    cdef Py_ssize_t gap = <Py_ssize_t>((-<size_t>y) & 63), head = gap // itemsize
    if n >= 1024 and gap % itemsize == 0:
        fn(x, g, y, head, p0, p1)
        x += head * itemsize
        y += head * itemsize
        if g != NULL:
            g += head * itemsize
        n -= head
    cdef int nt = threads_for(n, grain), t
    cdef Py_ssize_t a, b
    if nt <= 1:
        fn(x, g, y, n, p0, p1)
        return
    for t in prange(nt, num_threads=nt, schedule='static'):
        a = split_point(n, nt, t, 64)
        b = split_point(n, nt, t + 1, 64)
        fn(x + a * itemsize, (g + a * itemsize) if g != NULL else NULL, y + a * itemsize,
           b - a, p0, p1)


cdef object finish(cnp.ndarray res, object out, cnp.ndarray x):
    """Copy into a non-contiguous out= if needed; 0-d input gives a NumPy scalar."""
    if out is not None:
        if res is not out:
            out[...] = res
        return out
    if cnp.PyArray_NDIM(x) == 0:
        return res[()]
    return res


def _use_gathers(bint on):
    """Test hook: whether this module's short-row transposes may use AVX-512 gathers
    (fl_gather.h).  Returns the previous setting."""
    return use_gathers(on)


def elementwise(int op, object x, object g, object out, double p0, double p1, bint grad):
    """y = f(x) (grad False) or y = g * f'(x) (grad True, g may be None)."""
    cdef cnp.ndarray xa = <cnp.ndarray>x if is_fast(x) else V.as_input(x, 'x')
    cdef cnp.ndarray ga = None
    if g is not None:
        ga = <cnp.ndarray>g if is_fast_like(g, xa) else V.as_like(g, xa, 'grad_output')
    cdef cnp.ndarray ya
    if out is None:
        ya = empty_like(xa)
    else:
        ya = <cnp.ndarray>out if is_fast_out(out, xa) else V.out_buffer(out, xa)
    cdef bint f32 = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    cdef fl_block_fn fn
    if grad:
        fn = fl_unary_grad_table_f[op] if f32 else fl_unary_grad_table_d[op]
    else:
        fn = fl_unary_table_f[op] if f32 else fl_unary_table_d[op]
    cdef const char *xp = data(xa)
    cdef const char *gp = data(ga)
    cdef char *yp = data(ya)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa), isz = cnp.PyArray_ITEMSIZE(xa)
    with nogil:
        run_blocks(fn, xp, gp, yp, n, isz, p0, p1, GRAIN[op])
    return finish(ya, out, xa)


cdef void axis_part(bint f32, int mode, const char *x, const char *g, char *y, Py_ssize_t C,
                    Py_ssize_t inner, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    # short rows (at most FL_SHORT_ROW_BYTES): chunks transposed, SIMD across the rows
    if inner == 1 and C * (4 if f32 else 8) <= FL_SHORT_ROW_BYTES:
        if f32:
            fl_softmax_short_f(x, g, y, C, a, b, mode)
        else:
            fl_softmax_short_d(x, g, y, C, a, b, mode)
    elif inner == 1:
        if f32:
            fl_softmax_rows_f(x, g, y, C, a, b, mode)
        else:
            fl_softmax_rows_d(x, g, y, C, a, b, mode)
    elif f32:
        fl_softmax_strided_f(x, g, y, C, inner, a, b, mode)
    else:
        fl_softmax_strided_d(x, g, y, C, inner, a, b, mode)


cdef void run_axis(bint f32, int mode, const char *x, const char *g, char *y, Py_ssize_t C,
                   Py_ssize_t inner, Py_ssize_t lines) noexcept nogil:
    """Lines (rows, or strided columns) split evenly over the threads."""
    cdef int nt = threads_for(lines * C, GRAIN_MATH), t
    if nt <= 1:
        axis_part(f32, mode, x, g, y, C, inner, 0, lines)
        return
    for t in prange(nt, num_threads=nt, schedule='static'):
        axis_part(f32, mode, x, g, y, C, inner,
                  split_point(lines, nt, t, 1), split_point(lines, nt, t + 1, 1))


def along_axis(int mode, object x, object g, object axis, object out):
    """softmax (0), log_softmax (1), softmax_grad (2), log_softmax_grad (3) along axis."""
    cdef cnp.ndarray xa = <cnp.ndarray>x if is_fast(x) else V.as_input(x, 'x')
    cdef cnp.ndarray ga = None
    if mode >= 2:
        ga = <cnp.ndarray>g if is_fast_like(g, xa) else V.as_like(g, xa, 'grad_output')
    cdef Py_ssize_t outer = 1, C, inner = 1
    cdef int nd = cnp.PyArray_NDIM(xa), ax, i
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    if type(axis) is int and nd > 0 and -nd <= <long>axis < nd:     # fast path: plain int
        ax = <int>axis + (nd if <long>axis < 0 else 0)
        for i in range(ax):
            outer *= dims[i]
        for i in range(ax + 1, nd):
            inner *= dims[i]
        C = dims[ax]
    else:
        outer, C, inner = V.axis_split((<object>xa).shape, axis)
    cdef cnp.ndarray ya
    if out is None:
        ya = empty_like(xa)
    else:
        ya = <cnp.ndarray>out if is_fast_out(out, xa) else V.out_buffer(out, xa)
        if ga is not None and V.overlaps(ya, ga):
            ya = empty_like(xa)          # the kernel reads g after writing y
    cdef bint f32 = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    cdef const char *xp = data(xa)
    cdef const char *gp = data(ga)
    cdef char *yp = data(ya)
    if C > 0 and outer * inner > 0:
        with nogil:
            run_axis(f32, mode, xp, gp, yp, C, inner, outer * inner)
    return finish(ya, out, xa)


def prelu(object x, object weight, object g, object out, bint grad):
    """Forward y = x > 0 ? x : w[c] x, or with grad: (g * (x > 0 ? 1 : w[c]), grad_weight)."""
    cdef cnp.ndarray xa = <cnp.ndarray>x if is_fast(x) else V.as_input(x, 'x')
    cdef int nd = cnp.PyArray_NDIM(xa), i
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef Py_ssize_t channels = dims[1] if nd >= 2 else 1
    cdef cnp.ndarray wa
    if (is_fast(weight) and cnp.PyArray_TYPE(<cnp.ndarray>weight) == cnp.PyArray_TYPE(xa)
            and cnp.PyArray_NDIM(<cnp.ndarray>weight) == 1
            and cnp.PyArray_DIMS(<cnp.ndarray>weight)[0] in (1, channels)):
        wa = <cnp.ndarray>weight
    else:
        wa = V.prelu_weight(weight, xa)
    cdef cnp.ndarray ga = None
    if grad and g is not None:
        ga = <cnp.ndarray>g if is_fast_like(g, xa) else V.as_like(g, xa, 'grad_output')
    cdef Py_ssize_t outer = 1, C = 1, inner = cnp.PyArray_SIZE(xa)
    if cnp.PyArray_SIZE(wa) != 1:        # channels on axis 1 (prelu_weight's rule)
        outer, C, inner = dims[0], dims[1], 1
        for i in range(2, nd):
            inner *= dims[i]
    cdef cnp.ndarray ya
    if out is None:
        ya = empty_like(xa)
    else:
        ya = <cnp.ndarray>out if is_fast_out(out, xa) else V.out_buffer(out, xa)
    cdef bint f32 = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32
    cdef const char *xp = data(xa)
    cdef const char *wp = data(wa)
    cdef const char *gp = data(ga)
    cdef char *yp = data(ya)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa), isz = cnp.PyArray_ITEMSIZE(xa)
    cdef double w0
    if not grad:
        if C == 1:           # one slope: exactly leaky_relu, parallel over elements
            w0 = (<const float *>wp)[0] if f32 else (<const double *>wp)[0]
            with nogil:
                run_blocks(fl_unary_table_f[4] if f32 else fl_unary_table_d[4],
                           xp, NULL, yp, n, isz, w0, 0.0, GRAIN_CHEAP)
        else:
            with nogil:
                run_prelu(f32, xp, wp, gp, yp, NULL, outer, C, inner)
        return finish(ya, out, xa)
    cdef cnp.ndarray gw = V.zeros_f64(C)
    cdef double *gwp = <double *>cnp.PyArray_DATA(gw)
    with nogil:
        run_prelu(f32, xp, wp, gp, yp, gwp, outer, C, inner)
    return finish(ya, out, xa), gw.astype((<object>xa).dtype).reshape((<object>wa).shape)


cdef void prelu_part(bint f32, const char *x, const char *w, const char *g, char *y,
                     double *gw, Py_ssize_t C, Py_ssize_t inner, Py_ssize_t a,
                     Py_ssize_t b) noexcept nogil:
    if f32:
        fl_prelu_rows_f(x, w, g, y, gw, C, inner, a, b)
    else:
        fl_prelu_rows_d(x, w, g, y, gw, C, inner, a, b)


cdef void run_prelu(bint f32, const char *x, const char *w, const char *g, char *y,
                    double *gw, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner) noexcept nogil:
    """Forward: parallel over rows.  Gradient: serial, so grad_weight is summed in one fixed
    order (bitwise the same for any thread count)."""
    cdef int nt = 1 if gw != NULL else threads_for(outer * C * inner, GRAIN_CHEAP), t
    if nt <= 1:
        prelu_part(f32, x, w, g, y, gw, C, inner, 0, outer)
        return
    for t in prange(nt, num_threads=nt, schedule='static'):
        prelu_part(f32, x, w, g, y, gw, C, inner,
                   split_point(outer, nt, t, 1), split_point(outer, nt, t + 1, 1))
