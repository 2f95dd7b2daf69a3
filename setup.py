"""Build of fastloss's Cython/OpenMP extensions.

* OpenMP is detected by compiling and linking a small program with -fopenmp; without it
  the extensions are built serially and a warning says so.
* Flags: -O3 -fno-math-errno -fno-trapping-math, and never the fast-math options: one such
  object flips the whole process to flush-to-zero and breaks the kernels' rounding tricks.
* The block loops carry target_clones (fl_simd.h), so the baseline build still runs
  AVX-512/AVX2 code where the CPU has it.  FASTLOSS_NATIVE=1 builds with -march=native
  instead.  FASTLOSS_EXT=name1,name2 builds only those extensions (development).
"""
import glob
import os
import subprocess
import sys
import sysconfig
import tempfile
import warnings

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

KERNELS = ['_runtime', '_activations', '_losses', '_xent', '_ctc', '_diagnostics']
HERE = os.path.dirname(os.path.abspath(__file__))


def compiler_command():
    cc = os.environ.get('CC') or sysconfig.get_config_var('CC') or 'cc'
    return cc.split()


def openmp_flags():
    """(compile, link) flags if a test program builds, links and runs with OpenMP."""
    if os.environ.get('FASTLOSS_NO_OPENMP'):
        return None
    src = ('#include <omp.h>\nint main(void){int n=0;\n#pragma omp parallel reduction(+:n)\n'
           'n+=1;\nreturn n>0 && omp_get_max_threads()>0 ? 0 : 1;}\n')
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, 't.c'), os.path.join(d, 't')
        with open(c, 'w') as f:
            f.write(src)
        for cflags, lflags in ((['-fopenmp'], ['-fopenmp']),
                               (['-Xpreprocessor', '-fopenmp'], ['-lomp'])):
            try:
                r = subprocess.run(compiler_command() + cflags + [c, '-o', exe] + lflags,
                                   capture_output=True, timeout=120)
                if r.returncode == 0 and subprocess.run([exe], timeout=60).returncode == 0:
                    return cflags, lflags
            except (OSError, subprocess.SubprocessError):
                pass
    return None


omp = openmp_flags()
if omp is None:
    warnings.warn('fastloss: no working OpenMP found; building the kernels serially '
                  '(every call will use one thread).')
omp_c, omp_l = omp or ([], [])
native = os.environ.get('FASTLOSS_NATIVE') == '1'
cflags = ['-O3', '-fno-math-errno', '-fno-trapping-math', '-std=gnu11',
          '-Wno-unused-function', '-Wno-unreachable-code'] + omp_c
if native:
    cflags += ['-march=native', '-DFL_NATIVE']
build_info = dict(compiler=' '.join(compiler_command()), cflags=' '.join(cflags),
                  ldflags=' '.join(omp_l), openmp=omp is not None, native=native,
                  python=sys.version.split()[0], numpy=np.__version__)

only = os.environ.get('FASTLOSS_EXT')
names = [n for n in KERNELS if not only or n in only.split(',')]
names = [n for n in names if os.path.exists(os.path.join(HERE, 'fastloss', '_kernels', n + '.pyx'))]
extensions = [
    Extension(f'fastloss._kernels.{n}', [f'fastloss/_kernels/{n}.pyx'],
              include_dirs=[np.get_include(), 'fastloss/_kernels'],
              depends=sorted(glob.glob('fastloss/_kernels/*.h')),
              define_macros=[('NPY_NO_DEPRECATED_API', 'NPY_1_7_API_VERSION'),
                             ('FL_BUILD_INFO', '"' + repr(build_info).replace('"', "'") + '"')],
              extra_compile_args=cflags, extra_link_args=omp_l)
    for n in names
]

setup(ext_modules=cythonize(extensions, language_level=3,
                            compiler_directives={'embedsignature': True}))
