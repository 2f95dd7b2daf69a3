"""Activations, their derivatives, softmax/log_softmax: fastloss vs the NumPy reference,
PyTorch and SciPy (cases from fastloss._bench.SPECS; see conftest.py)."""
CATEGORIES = ('activation', 'activation grad', 'softmax')


def test_activation(bench_case, benchmark):
    bench_case.run(benchmark)
