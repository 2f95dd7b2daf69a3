# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Thread policy shared by all kernels.

A call on n elements uses ``min(limit, omp_get_max_threads(), ceil(n / grain))`` threads,
so OMP_NUM_THREADS and threadpoolctl (which calls omp_set_num_threads) are honoured, and
small inputs never enter a parallel region.  After os.fork() the child runs serially:
libgomp's thread pool does not survive a fork and would hang the child.
"""
import os

cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_New

cnp.import_array()

cdef extern from "fl_omp.h" nogil:
    int omp_get_max_threads()
    int FL_HAVE_OPENMP

cdef extern from "fl_simd.h" nogil:
    const char *fl_simd_level()

cdef int _limit = 0          # 0: no limit of our own (set_num_threads sets one)
cdef bint _forked = False


cdef int threads_for(Py_ssize_t n, Py_ssize_t grain) noexcept nogil:
    if _forked or n < 2 * grain:
        return 1
    cdef int nt = omp_get_max_threads()
    if 0 < _limit < nt:
        nt = _limit
    cdef Py_ssize_t want = (n + grain - 1) // grain
    if want < nt:
        nt = <int>want
    return nt if nt > 1 else 1


cdef Py_ssize_t split_point(Py_ssize_t n, int parts, int t, Py_ssize_t align) noexcept nogil:
    """Start of part t of [0, n) cut into `parts` nearly equal pieces on `align` boundaries."""
    if t >= parts:
        return n
    cdef Py_ssize_t p = (n // parts) * t
    p -= p % align
    return p


def _after_fork_in_child():
    global _forked
    _forked = True
    fl_buf_after_fork()


# ---- result buffers: NumPy's allocator, with a small cache of freed large buffers ----------
cdef extern from "fl_bufcache.h":
    ctypedef struct PyDataMem_Handler:
        pass
    PyDataMem_Handler fl_buf_handler
    size_t FL_BUF_MIN
    int FL_BUF_SLOTS
    int fl_buf_init(size_t limit) except -1
    void fl_buf_after_fork()
    void fl_buf_set_limit(size_t limit)
    ctypedef struct fl_buf_state:
        size_t bytes, limit
        int count
        unsigned long long hits, misses
    fl_buf_state fl_buf

cdef extern from "numpy/arrayobject.h":
    ctypedef struct PyObject
    object PyDataMem_SetHandler(object handler)
    object PyDataMem_GetHandler()
    PyObject *PyDataMem_DefaultHandler


def _limit_from_env():
    v = os.environ.get('FASTLOSS_BUFFER_CACHE', '').strip()
    try:
        return max(0, int(float(v) * 2**20)) if v else 256 * 2**20
    except ValueError:
        return 256 * 2**20


fl_buf_init(_limit_from_env())
cdef object _cache_handler = PyCapsule_New(&fl_buf_handler, "mem_handler", NULL)


cdef cnp.ndarray empty_array(int nd, cnp.npy_intp *dims, int typenum):
    """An uninitialized C-contiguous array, as PyArray_EMPTY; a large one through the buffer
    cache (fl_bufcache.h) unless the cache is off or the caller set a NumPy memory handler of
    its own (which is then respected)."""
    cdef size_t n = (<size_t>cnp.PyArray_DescrFromType(typenum).itemsize
                     * <size_t>cnp.PyArray_MultiplyList(dims, nd))
    if n < FL_BUF_MIN or fl_buf.limit == 0:
        return cnp.PyArray_EMPTY(nd, dims, typenum, 0)
    current = PyDataMem_GetHandler()
    if <void *>current != <void *>PyDataMem_DefaultHandler:
        return cnp.PyArray_EMPTY(nd, dims, typenum, 0)
    previous = PyDataMem_SetHandler(_cache_handler)
    try:
        return cnp.PyArray_EMPTY(nd, dims, typenum, 0)
    finally:
        PyDataMem_SetHandler(previous)


def set_buffer_cache(limit):
    fl_buf_set_limit(limit)


def buffer_cache_info():
    return {'limit': fl_buf.limit, 'bytes': fl_buf.bytes, 'buffers': fl_buf.count,
            'max_buffers': FL_BUF_SLOTS, 'min_size': FL_BUF_MIN, 'hits': fl_buf.hits,
            'misses': fl_buf.misses}


os.register_at_fork(after_in_child=_after_fork_in_child)


def set_num_threads(n):
    global _limit
    _limit = n


def get_num_threads():
    if _forked:
        return 1
    nt = omp_get_max_threads()
    return min(nt, _limit) if _limit > 0 else nt


def limit():
    return _limit


def have_openmp():
    return bool(FL_HAVE_OPENMP)


def simd_level():
    return fl_simd_level().decode()


cdef extern from *:
    const char *FL_BUILD_INFO


def build_info():
    return FL_BUILD_INFO.decode()
