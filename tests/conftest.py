"""Shared test helpers.  Tests import the installed fastloss (run `pytest` from the repo
root after `pip install .`) or an in-place build (`python -m pytest`)."""
import os

import numpy as np
import pytest

import fastloss

# Subprocesses (python -m fastloss ..., python -c ...) must import the fastloss under test:
# the installed one in CI, where the repository's source tree (no compiled modules) is the
# cwd and would otherwise come first on sys.path, or an in-place build during development.
os.environ['PYTHONSAFEPATH'] = '1'
os.environ['PYTHONPATH'] = os.pathsep.join(
    p for p in (os.path.dirname(os.path.dirname(fastloss.__file__)),
                os.environ.get('PYTHONPATH')) if p)

DTYPES = (np.float32, np.float64)


@pytest.fixture(params=DTYPES, ids=['float32', 'float64'])
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture(scope='session')
def torch():
    """PyTorch 2.13 CPU, or skip."""
    torch = pytest.importorskip('torch')
    torch.set_default_dtype(torch.float64)
    return torch


def ulp_error(got, ref, dtype):
    """|got - ref| in units of the last place of `dtype` at ref (ref: float64 or long double,
    more accurate than dtype).  Equal non-finite values (inf, nan) count as 0."""
    dtype = np.dtype(dtype)
    got = np.asarray(got, dtype=np.longdouble)
    ref = np.asarray(ref, dtype=np.longdouble)
    r = ref.astype(dtype)
    tiny = np.finfo(dtype).smallest_subnormal
    with np.errstate(all='ignore'):
        spacing = np.abs(np.spacing(np.abs(r))).astype(np.longdouble)
        spacing = np.where(spacing > 0, spacing, tiny)
        err = np.abs(got - ref) / spacing
    same = (got == ref) | (np.isnan(got) & np.isnan(ref))
    return np.where(same, 0, np.where(np.isfinite(err), err, np.inf))


def assert_close(got, ref, dtype, ulps=None, rtol=None, atol=0.0, what=''):
    """Assert got ~= ref: within `ulps` (default 4) ulps of dtype, or rtol/atol if given."""
    got = np.asarray(got)
    ref = np.asarray(ref)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    if rtol is not None:
        np.testing.assert_allclose(got.astype(np.float64), ref.astype(np.float64),
                                   rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
        return
    err = ulp_error(got, ref, dtype)
    worst = float(err.max()) if err.size else 0.0
    assert worst <= (4 if ulps is None else ulps), f"{what}: worst error {worst:.2f} ulp"


# ---- accuracy report: tests record the worst ulp error per function; printed at the end ---
ULP_REPORT = {}


def record_ulp(name, dtype, err, x):
    """Remember the worst ulp error of `name` in `dtype` (err and x arrays, same shape)."""
    err = np.asarray(err, dtype=np.float64).ravel()
    if not err.size:
        return
    i = int(np.argmax(err))
    key = (name, np.dtype(dtype).name)
    if key not in ULP_REPORT or err[i] > ULP_REPORT[key][0]:
        ULP_REPORT[key] = (float(err[i]), np.asarray(x).ravel()[i])


def pytest_terminal_summary(terminalreporter):
    if not ULP_REPORT:
        return
    tr = terminalreporter
    tr.section('worst ulp error per function (dense grid + tails)')
    for (name, dt), (err, x) in sorted(ULP_REPORT.items()):
        tr.write_line(f"{name:34s} {dt:8s} {err:6.2f} ulp  at x = {x!r}")
