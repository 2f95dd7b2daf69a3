# Argument handling shared by the kernel modules: the fast path only.  Anything that is not
# already an exact, aligned, native, C-contiguous float32/float64 ndarray goes to
# fastloss._validate, the one place where the coercion and error rules live.
cimport numpy as cnp
from fastloss._kernels._runtime cimport empty_array

cdef inline bint is_fast(object a) noexcept:
    """True for an exact ndarray that kernels can use as it is."""
    if not cnp.PyArray_CheckExact(a):
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    cdef int tn = cnp.PyArray_TYPE(arr)
    return ((tn == cnp.NPY_FLOAT32 or tn == cnp.NPY_FLOAT64)
            and cnp.PyArray_ISCARRAY_RO(arr) and cnp.PyArray_ISNOTSWAPPED(arr))


cdef inline bint is_fast_like(object a, cnp.ndarray ref) noexcept:
    """A fast array of ref's dtype and shape (for target, grad_output, ...)."""
    return (is_fast(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.PyArray_TYPE(ref)
            and cnp.PyArray_SAMESHAPE(<cnp.ndarray>a, ref))


cdef inline bint is_fast_out(object a, cnp.ndarray ref) noexcept:
    """A fast, writeable array of ref's dtype and shape."""
    return is_fast_like(a, ref) and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)


cdef inline cnp.ndarray empty_like(cnp.ndarray ref):
    return empty_array(cnp.PyArray_NDIM(ref), cnp.PyArray_DIMS(ref), cnp.PyArray_TYPE(ref))


cdef inline char *data(cnp.ndarray a) noexcept:
    return <char *>cnp.PyArray_DATA(a) if a is not None else NULL


cdef extern from "fl_gather.h":
    int fl_gather_on        # per extension module (a static in the header)


cdef inline bint use_gathers(bint on) noexcept:
    """Allow (1) or forbid (0) this module's AVX-512 gather transposes; the old setting."""
    global fl_gather_on
    cdef bint old = fl_gather_on
    fl_gather_on = on
    return old
