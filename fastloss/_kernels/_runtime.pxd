# Shared by every kernel module: how many OpenMP threads a call of n elements may use.
cdef int threads_for(Py_ssize_t n, Py_ssize_t grain) noexcept nogil
cdef Py_ssize_t split_point(Py_ssize_t n, int parts, int t, Py_ssize_t align) noexcept nogil
# Uninitialized C-contiguous arrays for results (large ones through the buffer cache).
cimport numpy as cnp
cdef cnp.ndarray empty_array(int nd, cnp.npy_intp *dims, int typenum)
