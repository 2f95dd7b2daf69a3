"""tanh as sign(x) em/(em + 2), em = e^(2|x|) - 1 = 2^k q + (2^k - 1), against a long double
reference where its pieces meet: the steps of k (2|x| = (j + 1/2) ln2), k = 0 (em = q, small
|x|), the select to 1 beyond 9.1 (float32) / 19.1 (float64), where the reduction's k would
overflow, subnormals, signed zeros, NaN and infinities."""
import numpy as np
import pytest

import fastloss as fl
from conftest import ulp_error, record_ulp

ONE_FROM = {np.dtype(np.float32): 9.1, np.dtype(np.float64): 19.1}


def check(x, dtype, label, limit=3.0):
    x = np.asarray(x, dtype=dtype)
    ref = np.tanh(x.astype(np.longdouble))
    got = fl.tanh(x)
    assert got.dtype == dtype
    err = ulp_error(got, ref, dtype)
    record_ulp(label, dtype, err, x)
    i = int(np.argmax(err))
    assert err[i] <= limit, f"{label}: {err[i]:.2f} ulp at x={x[i]!r}: {got[i]!r} vs {ref[i]!r}"


def test_steps_of_k(dtype):
    steps = (np.arange(0, 60) + 0.5) * np.log(2) / 2
    x = (steps[:, None] + np.linspace(-2e-3, 2e-3, 81)[None, :]).ravel()
    check(np.concatenate([x, -x]), dtype, 'tanh at the steps of k')


def test_small_arguments(dtype):
    x = np.geomspace(np.finfo(dtype).smallest_subnormal, 0.2, 4000)
    check(np.concatenate([x, -x]), dtype, 'tanh, small |x| (k = 0)')


def test_select_to_one(dtype):
    c = ONE_FROM[dtype]
    x = c + np.linspace(-0.5, 0.5, 2001)
    check(np.concatenate([x, -x]), dtype, 'tanh next to its select to 1')
    big = np.array([c * 1.0001, 40.0, 1e4, np.finfo(dtype).max, np.inf], dtype=dtype)
    assert np.all(fl.tanh(big) == 1) and np.all(fl.tanh(-big) == -1)


def test_special_values(dtype):
    x = np.array([0.0, -0.0, np.nan, -np.nan], dtype=dtype)
    y = fl.tanh(x)
    assert y[0] == 0 and not np.signbit(y[0])
    assert y[1] == 0 and np.signbit(y[1])
    assert np.isnan(y[2]) and np.isnan(y[3])
