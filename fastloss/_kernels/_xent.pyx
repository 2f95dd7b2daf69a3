# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cross-entropy family kernels: cross_entropy, nll_loss, categorical_cross_entropy, each as
value, gradient, or both from one pass (formulas in fl_xent_tmpl.h).

One entry point, `run`, takes the fast path itself (exact float32/float64 C-contiguous input,
int64 class indices of the right shape) and calls fastloss._validate for anything else.
Lines (samples) are independent: they are cut into fixed blocks of about 8192 elements, the
blocks are split over the OpenMP threads, and the block loss sums are added in block order,
so 'mean'/'sum' are bitwise the same for every thread count.
"""
cimport numpy as cnp
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cython.parallel cimport prange
from fastloss._kernels._runtime cimport threads_for, split_point
from fastloss._kernels._common cimport (is_fast, is_fast_like, is_fast_out, empty_like, data,
                                        use_gathers)
from fastloss import _validate as V

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void *data, cnp.dtype descr, object base)

cdef extern from "fl_xent.h" nogil:
    ctypedef struct fl_xent_args:
        const void *x
        const void *q
        const int64_t *t
        const void *w
        const void *g
        const void *cw
        const void *wl
        void *gx
        void *loss
        double *part
        Py_ssize_t C, inner, lines, block
        int64_t ignore
        double p, W, scale
        int kind
    void fl_xent_blocks_f(const fl_xent_args *a, Py_ssize_t b0, Py_ssize_t b1)
    void fl_xent_blocks_d(const fl_xent_args *a, Py_ssize_t b0, Py_ssize_t b1)
    void fl_xent_lean_blocks_f(const fl_xent_args *a, Py_ssize_t b0, Py_ssize_t b1)
    void fl_xent_lean_blocks_d(const fl_xent_args *a, Py_ssize_t b0, Py_ssize_t b1)
    void fl_xent_coef_f(const void *w, Py_ssize_t C, double ls, void *cw, void *wl)
    void fl_xent_coef_d(const void *w, Py_ssize_t C, double ls, void *cw, void *wl)
    Py_ssize_t fl_xent_scan_f(const int64_t *t, Py_ssize_t n, Py_ssize_t C, int64_t ignore,
                              const void *w, double *denom)
    Py_ssize_t fl_xent_scan_d(const int64_t *t, Py_ssize_t n, Py_ssize_t C, int64_t ignore,
                              const void *w, double *denom)

# kind: the order of FL_XENT, FL_NLL, FL_CCE in fl_xent.h; what: value, gradient, both
cdef enum:
    XENT = 0
    NLL = 1
    CCE = 2
    VALUE = 0
    GRAD = 1
    BOTH = 2
cdef Py_ssize_t GRAIN = 32768          # elements per thread before a second one pays off
cdef Py_ssize_t BLOCK_ELEMS = 8192     # elements per reduction block (whole lines)


cdef void blocks(bint f32, const fl_xent_args *a, Py_ssize_t b0, Py_ssize_t b1) noexcept nogil:
    if a.cw == NULL and a.kind == XENT:      # the lean path (see run)
        if f32:
            fl_xent_lean_blocks_f(a, b0, b1)
        else:
            fl_xent_lean_blocks_d(a, b0, b1)
    elif f32:
        fl_xent_blocks_f(a, b0, b1)
    else:
        fl_xent_blocks_d(a, b0, b1)


cdef void run_blocks(bint f32, const fl_xent_args *a, Py_ssize_t nblocks) noexcept nogil:
    """Blocks [0, nblocks) split evenly over the threads (serial below the grain).  The
    nll_loss value reads one element per line: its work is counted as 4 per line."""
    cdef Py_ssize_t work = a.lines * (4 if a.kind == NLL and a.gx == NULL else a.C)
    cdef int nt = threads_for(work, GRAIN), t
    if nt > nblocks:
        nt = <int>nblocks
    if nt <= 1:
        blocks(f32, a, 0, nblocks)
        return
    for t in prange(nt, num_threads=nt, schedule='static'):
        blocks(f32, a, split_point(nblocks, nt, t, 1), split_point(nblocks, nt, t + 1, 1))


cdef int reduction_code(object reduction) except -1:
    if type(reduction) is str:
        if reduction == 'mean':
            return 1
        if reduction == 'sum':
            return 2
        if reduction == 'none':
            return 0
    return V.reduction_code(reduction)


cdef bint same_reduced_shape(cnp.ndarray a, cnp.ndarray x, int ax) noexcept:
    """a has x's shape without axis ax."""
    cdef int nd = cnp.PyArray_NDIM(x), i
    if cnp.PyArray_NDIM(a) != nd - 1:
        return False
    cdef cnp.npy_intp *ad = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *xd = cnp.PyArray_DIMS(x)
    for i in range(nd - 1):
        if ad[i] != xd[i if i < ax else i + 1]:
            return False
    return True


cdef bint fast_index(object t, cnp.ndarray x, int ax) noexcept:
    return (cnp.PyArray_CheckExact(t) and cnp.PyArray_TYPE(<cnp.ndarray>t) == cnp.NPY_INT64
            and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>t)
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>t)
            and same_reduced_shape(<cnp.ndarray>t, x, ax))


cdef bint fast_weight(object w, cnp.ndarray x, Py_ssize_t C) noexcept:
    return w is None or (is_fast(w) and cnp.PyArray_TYPE(<cnp.ndarray>w) == cnp.PyArray_TYPE(x)
                         and cnp.PyArray_NDIM(<cnp.ndarray>w) == 1
                         and cnp.PyArray_DIMS(<cnp.ndarray>w)[0] == C)


cdef double weight_sum(bint f32, const char *w, Py_ssize_t C) noexcept nogil:
    cdef double s = 0.0
    cdef Py_ssize_t k
    for k in range(C):
        s += (<const float *>w)[k] if f32 else (<const double *>w)[k]
    return s


cdef object scalar(double v, bint f32):
    """A NumPy scalar of the computation dtype."""
    cdef float f = <float>v
    if f32:
        return PyArray_Scalar(&f, cnp.PyArray_DescrFromType(cnp.NPY_FLOAT32), None)
    return PyArray_Scalar(&v, cnp.PyArray_DescrFromType(cnp.NPY_FLOAT64), None)


def _use_gathers(bint on):
    """Test hook: whether this module's short-row transposes may use AVX-512 gathers
    (fl_gather.h).  Returns the previous setting."""
    return use_gathers(on)


def run(int kind, int what, object x, object target, object weight, object ignore_index,
        object param, object axis, object reduction, object grad_output, object out):
    """kind: 0 cross_entropy, 1 nll_loss, 2 categorical_cross_entropy; what: 0 value,
    1 gradient, 2 (value, gradient).  param: label_smoothing (0, 1) or eps (2)."""
    cdef double p = (param if type(param) is float
                     else V.param(param, 'eps' if kind == CCE else 'label_smoothing'))
    cdef cnp.ndarray xa = <cnp.ndarray>x if is_fast(x) else V.as_input(x, 'input')
    cdef int nd = cnp.PyArray_NDIM(xa), ax, i
    if nd == 0:
        raise ValueError("input must have at least 1 dimension (a class axis), got a 0-d array")
    if nd == 1 and kind != CCE:
        ax = 0
    elif type(axis) is int and -nd <= axis < nd:
        ax = (<int>axis + nd) % nd
    else:
        ax = V.normalize_axis(axis, nd)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef Py_ssize_t outer = 1, inner = 1, C = dims[ax]
    for i in range(ax):
        outer *= dims[i]
    for i in range(ax + 1, nd):
        inner *= dims[i]
    cdef Py_ssize_t lines = outer * inner
    cdef int code = reduction_code(reduction)
    cdef bint f32 = cnp.PyArray_TYPE(xa) == cnp.NPY_FLOAT32

    # targets and weights
    cdef cnp.ndarray ta, wa = None
    cdef bint is_index = False
    if kind == CCE:
        ta = <cnp.ndarray>target if is_fast_like(target, xa) else V.as_like(target, xa, 'target')
        if not 0.0 <= p < 1.0:
            raise ValueError(f"eps must be in [0, 1), got {p!r}")
    else:
        if fast_index(target, xa, ax) and fast_weight(weight, xa, C):
            ta, is_index, wa = <cnp.ndarray>target, True, weight
        elif kind == XENT and is_fast_like(target, xa) and fast_weight(weight, xa, C):
            ta, is_index, wa = <cnp.ndarray>target, False, weight
        else:
            ta, is_index, wa = V.class_targets(xa, target, weight, ax, kind == XENT)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {p!r}")
    cdef int overflow = 1
    cdef long long ign_ll = 0
    if type(ignore_index) is int:
        ign_ll = PyLong_AsLongLongAndOverflow(ignore_index, &overflow)
    cdef int64_t ign = (ign_ll if overflow == 0 and -2**62 < ign_ll < 2**62
                        else V.int64_param(ignore_index, 'ignore_index'))
    if kind == XENT and not is_index and ign >= 0:
        raise ValueError(f"ignore_index={ign} is not supported with class-probability targets "
                         "(PyTorch's rule); leave it at -100")

    cdef fl_xent_args a
    a.x = data(xa)
    a.q = NULL if is_index else data(ta)
    a.t = <const int64_t *>data(ta) if is_index else NULL
    a.w = data(wa)
    a.g = NULL
    a.gx = NULL
    a.loss = NULL
    a.part = NULL
    a.C, a.inner, a.lines = C, inner, lines
    a.block = BLOCK_ELEMS // C if C and BLOCK_ELEMS // C > 0 else 1
    a.ignore = ign
    a.p = p
    a.W = weight_sum(f32, data(wa), C) if wa is not None else <double>C
    a.kind = kind
    a.cw = a.wl = NULL

    cdef double denom = <double>lines
    cdef Py_ssize_t bad = -1

    # gradient factor and buffers
    cdef double go = 1.0
    cdef cnp.ndarray ga = None, gxa = None, la = None
    cdef cnp.npy_intp rdims[64]
    if what != VALUE:
        if code == 0:
            if grad_output is not None:
                if (is_fast(grad_output) and cnp.PyArray_TYPE(<cnp.ndarray>grad_output)
                        == cnp.PyArray_TYPE(xa) and same_reduced_shape(grad_output, xa, ax)):
                    ga = <cnp.ndarray>grad_output
                else:
                    ga = V.grad_scale(0, 0, grad_output, (<object>xa).dtype,
                                      (<object>xa).shape[:ax] + (<object>xa).shape[ax + 1:])[1]
                a.g = data(ga)
        elif grad_output is not None:
            go = grad_output if type(grad_output) is float else V.grad_scale(2, 1, grad_output,
                                                                           None, ())[0]
        if out is None:
            gxa = empty_like(xa)
        else:
            gxa = <cnp.ndarray>out if is_fast_out(out, xa) else V.out_buffer(out, xa)
            if ((not is_index and V.overlaps(gxa, ta)) or (wa is not None and V.overlaps(gxa, wa))
                    or (ga is not None and V.overlaps(gxa, ga)) or V.partial_overlap(gxa, xa)):
                gxa = empty_like(xa)      # the kernel reads these after writing the gradient
                                          # (x in place is fine, a shifted view of x is not)
        a.gx = data(gxa)
    if what != GRAD and code == 0:
        for i in range(nd - 1):
            rdims[i] = dims[i if i < ax else i + 1]
        la = cnp.PyArray_EMPTY(nd - 1, rdims, cnp.PyArray_TYPE(xa), 0)
        a.loss = data(la)

    cdef Py_ssize_t nblocks = (lines + a.block - 1) // a.block, b
    cdef double total = 0.0
    cdef char *coef = NULL
    cdef double part_buf[64]
    cdef bint lean = kind == XENT and is_index and wa is None and p == 0.0
    if what != GRAD and code != 0:
        if nblocks <= 64:
            a.part = part_buf
        else:
            a.part = <double *>malloc(nblocks * sizeof(double))
            if a.part == NULL:
                raise MemoryError()
    if kind == XENT and not lean:
        coef = <char *>malloc(2 * max(C, 16) * cnp.PyArray_ITEMSIZE(xa))   # FL_XENT_PAD
        if coef == NULL:
            if a.part != part_buf:
                free(a.part)
            raise MemoryError()
        a.cw, a.wl = coef, coef + max(C, 16) * cnp.PyArray_ITEMSIZE(xa)
    with nogil:        # one GIL release: the index scan (it fixes the 'mean' divisor), the kernel
        if is_index:
            if f32:
                bad = fl_xent_scan_f(a.t, lines, C, ign, a.w, &denom)
            else:
                bad = fl_xent_scan_d(a.t, lines, C, ign, a.w, &denom)
        a.scale = go / denom if code == 1 else go
        if bad < 0:
            if coef != NULL:
                if f32:
                    fl_xent_coef_f(a.w, C, p, coef, <void *>a.wl)
                else:
                    fl_xent_coef_d(a.w, C, p, coef, <void *>a.wl)
            run_blocks(f32, &a, nblocks)
        free(coef)
        if a.part != NULL:
            for b in range(nblocks):
                total += a.part[b]
            if a.part != part_buf:
                free(a.part)
    if bad >= 0:
        raise ValueError(f"target: class index {ta.reshape(-1)[bad]} at position {bad} is "
                         f"out of range [0, {C}) and is not ignore_index ({ign})")

    cdef object value = None, grad = None
    if what != GRAD:
        if code == 0:
            value = la[()] if nd == 1 else la
        else:
            value = scalar(total / denom if code == 1 else total, f32)
    if what != VALUE:
        grad = gxa
        if out is not None:
            if gxa is not out:
                out[...] = gxa
            grad = out
    if what == VALUE:
        return value
    if what == GRAD:
        return grad
    return value, grad
