"""Threads and build information (API.md, "threads")."""
import ast
import contextlib
import operator

from ._kernels import _runtime


def get_num_threads():
    """Threads a large call may use: min(set_num_threads limit, omp_get_max_threads()).
    omp_get_max_threads() follows OMP_NUM_THREADS and threadpoolctl's limits."""
    return _runtime.get_num_threads()


def set_num_threads(n):
    """Use at most n threads in fastloss's kernels (n >= 1)."""
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"n must be an integer, got {type(n).__name__}") from None
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    _runtime.set_num_threads(n)


@contextlib.contextmanager
def num_threads(n):
    """Context manager: ``with fl.num_threads(1): ...`` limits the kernels inside."""
    previous = _runtime.limit()
    set_num_threads(n)
    try:
        yield
    finally:
        _runtime.set_num_threads(previous)


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
             f"  built for: Python {i['python']}, NumPy {i['numpy']}"]
    print('\n'.join(lines), file=file)
