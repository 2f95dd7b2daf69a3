"""pytest-benchmark suite: fastloss against the NumPy reference, PyTorch, SciPy and
scikit-learn, one benchmark group per kernel x size x dtype, parametrized over the
implementation.  The kernels, inputs and peer calls come from ``fastloss._bench`` (the
table behind ``python -m fastloss bench``); peers that are not installed are left out.

    pytest bench/ --benchmark-autosave            # save a run
    pytest bench/ --benchmark-compare             # compare with the last saved run
    pytest bench/ -k sigmoid --benchmark-group-by=group
    pytest bench/ --benchmark-disable -q          # smoke test: each case runs once

Sizes: elementwise 1e3 and 1e6, row-wise 1024x10 and 4096x1000, CTC T200xN32xC50xS40,
float32 and float64, all threads (``OMP_NUM_THREADS`` / threadpoolctl to change).
``FASTLOSS_BENCH_FULL=1`` uses the full size list of ``python -m fastloss bench``.  The
NumPy reference (slow on purpose) is only benchmarked up to 1e5 elements.
"""
import functools
import os

import pytest

from fastloss import _bench as B

MODS = B._import_peers()
if os.environ.get('FASTLOSS_BENCH_FULL'):
    ELEMENTWISE, ROWWISE = B.ELEMENTWISE_SIZES, B.ROWWISE_SHAPES
else:
    ELEMENTWISE, ROWWISE = (10**3, 10**6), ((1024, 10), (4096, 1000))
REFERENCE_MAX_ELEMENTS = 10**5


@functools.lru_cache(maxsize=4)
def _inputs(kind, shape, dtype):
    return B.make_inputs(kind, shape, dtype)


class Case:
    def __init__(self, spec, shape, dtype, impl):
        self.spec, self.shape, self.dtype, self.impl = spec, shape, dtype, impl
        self.group = f"{spec.name} {B.size_label(shape)} {dtype}"

    def run(self, benchmark):
        fl = MODS['fastloss']
        threads = fl.get_num_threads()
        a = _inputs(self.spec.inputs, self.shape, self.dtype)
        f = B.make_callables(self.spec, a, threads, MODS, impls=(self.impl,))[self.impl]
        benchmark.group = self.group
        benchmark.extra_info.update(kernel=self.spec.name, size=B.size_label(self.shape),
                                    dtype=self.dtype, impl=self.impl, threads=threads,
                                    elements=B.elements(self.spec, self.shape))
        result = benchmark(f)
        assert result is not None


def _cases(categories):
    out = []
    for spec, shape, dt in B.cases(elementwise=ELEMENTWISE, rowwise=ROWWISE, mods=MODS):
        if spec.category not in categories:
            continue
        for impl in B.IMPLS:
            if not B.available(spec, impl, MODS):
                continue
            if impl == 'numpy' and B.elements(spec, shape) > REFERENCE_MAX_ELEMENTS:
                continue
            case = Case(spec, shape, dt, impl)
            out.append(pytest.param(case, id=f"{spec.name}-{B.size_label(shape)}-{dt}-{impl}"))
    return out


def pytest_generate_tests(metafunc):
    """A test module sets CATEGORIES (see fastloss._bench.Spec.category) and takes a
    `bench_case` argument: one case per kernel x size x dtype x implementation."""
    if 'bench_case' in metafunc.fixturenames:
        cats = getattr(metafunc.module, 'CATEGORIES')
        metafunc.parametrize('bench_case', _cases(cats))
