# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Thread policy shared by all kernels.

A call on n elements uses ``min(limit, omp_get_max_threads(), ceil(n / grain))`` threads,
so OMP_NUM_THREADS and threadpoolctl (which calls omp_set_num_threads) are honoured, and
small inputs never enter a parallel region.  After os.fork() the child runs serially:
libgomp's thread pool does not survive a fork and would hang the child.
"""
import os

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
