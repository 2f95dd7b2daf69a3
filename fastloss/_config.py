"""Threads and build information (API.md, "threads")."""
import ast
import contextlib
import operator

from ._kernels import _runtime


def get_num_threads():
    """Threads a large call may use: min(set_num_threads limit, omp_get_max_threads()).
    omp_get_max_threads() follows OMP_NUM_THREADS and threadpoolctl's limits."""
    return _runtime.get_num_threads()


def _int_at_least(value, name, lowest):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if value < lowest:
        raise ValueError(f"{name} must be >= {lowest}, got {value}")
    return value


def set_num_threads(n):
    """Use at most n threads in fastloss's kernels (n >= 1)."""
    _runtime.set_num_threads(_int_at_least(n, 'n', 1))


@contextlib.contextmanager
def num_threads(n):
    """Context manager: ``with fl.num_threads(1): ...`` limits the kernels inside."""
    previous = _runtime.limit()
    set_num_threads(n)
    try:
        yield
    finally:
        _runtime.set_num_threads(previous)


def set_buffer_cache(nbytes):
    """Keep at most `nbytes` of freed large result buffers for reuse (0 turns the cache off
    and frees what it holds).  Results of >= 1 MiB come from this cache of up to 8 buffers:
    a result of the same size as a freed one reuses its memory instead of page-faulting in
    fresh memory (4-8 ms per 40 MB).  Default 256 MiB, or FASTLOSS_BUFFER_CACHE (in MiB)."""
    _runtime.set_buffer_cache(_int_at_least(nbytes, 'nbytes', 0))


def buffer_cache_info():
    """The buffer cache's state: limit and cached bytes, buffers held, reuse counts."""
    return _runtime.buffer_cache_info()


def build_info():
    info = ast.literal_eval(_runtime.build_info())
    info.update(openmp=_runtime.have_openmp(), simd=_runtime.simd_level(),
                threads=get_num_threads())
    return info


def show_config(file=None):
    """Print the build: compiler, flags, OpenMP, SIMD level chosen at run time, threads."""
    from . import __version__
    i = build_info()
    lines = [f"fastloss {__version__}",
             f"  compiler : {i['compiler']}",
             f"  cflags   : {i['cflags']}",
             f"  ldflags  : {i['ldflags'] or '(none)'}",
             f"  OpenMP   : {'on' if i['openmp'] else 'off (serial build)'}",
             f"  SIMD     : {i['simd']}",
             f"  threads  : {i['threads']}",
             f"  buffers  : cache of freed results >= 1 MiB, limit {buffer_cache_info()['limit'] / 2**20:g} MiB",
             f"  built for: Python {i['python']}, NumPy {i['numpy']}"]
    print('\n'.join(lines), file=file)
