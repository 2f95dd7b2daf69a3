"""Losses (value and value_and_grad): fastloss vs the NumPy reference, PyTorch and
scikit-learn (cases from fastloss._bench.SPECS; see conftest.py)."""
CATEGORIES = ('loss', 'loss value_and_grad')


def test_loss(bench_case, benchmark):
    bench_case.run(benchmark)
