"""Accuracy over the whole float range: <= 4 ulp against a long double reference (mpmath for
float64 GELU), on a dense grid plus tails: +-1e4, +-inf, NaN, +-0, subnormals, the
overflow points.  The worst error per function is printed in the test summary."""
import numpy as np
import pytest

import fastloss as fl
from fastloss.reference import _activations as ref_act
from conftest import ulp_error, record_ulp

CASES = [('sigmoid', {}), ('tanh', {}), ('relu', {}), ('leaky_relu', {}), ('elu', {}),
         ('softplus', {}), ('softplus', {'beta': 2.5, 'threshold': 10.0}), ('log_sigmoid', {}),
         ('silu', {}), ('gelu', {}), ('gelu', {'approximate': 'tanh'}), ('identity', {})]


def grid(dtype):
    fi = np.finfo(dtype)
    mag = np.geomspace(fi.smallest_subnormal, fi.max, 4001)
    return np.concatenate([
        np.linspace(-40, 40, 80001), mag, -mag, np.linspace(-800, 800, 8001),
        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e4, -1e4, 88.7, 89.0, -87.3, -103.9,
         709.78, 710.0, -708.4, -745.1, fi.tiny, -fi.tiny, fi.max, -fi.max],
    ]).astype(dtype)


def long_double_reference(monkeypatch, fn, x, params):
    """The reference's value before its final cast to the computation dtype."""
    monkeypatch.setattr(ref_act, 'result', lambda y, dt: np.asarray(y))
    with np.errstate(all='ignore'):
        return fn(x, **params)


@pytest.mark.parametrize('name,params', CASES,
                         ids=[n + ('-' + '-'.join(map(str, p.values())) if p else '') for n, p in CASES])
@pytest.mark.parametrize('deriv', [False, True], ids=['f', 'grad'])
def test_ulp_error_at_most_4(name, params, deriv, dtype, monkeypatch):
    fname = name + ('_grad' if deriv else '')
    x = grid(dtype)
    if name == 'gelu' and dtype == np.float64:
        x = x[np.abs(x) < 1e5][::7]
        ref = mpmath_gelu(x, params.get('approximate', 'none'), deriv)
    else:
        ref = long_double_reference(monkeypatch, getattr(fl.reference, fname), x, params)
    got = getattr(fl, fname)(x, **params)
    err = ulp_error(got, ref, dtype)
    label = fname + (f"({', '.join(f'{k}={v}' for k, v in params.items())})" if params else '')
    record_ulp(label, dtype, err, x)
    i = int(np.argmax(err))
    assert err[i] <= 4, f"{label} {dtype}: {err[i]:.2f} ulp at x={x[i]!r}: {got[i]!r} vs {ref[i]!r}"


def mpmath_gelu(x, approximate, deriv):
    mp = pytest.importorskip('mpmath')
    mp.mp.prec = 160
    c1 = 2 * mp.sqrt(2 / mp.pi)
    c3 = c1 * mp.mpf('0.044715')
    out = []
    for xv in x.tolist():
        t = mp.mpf(xv)
        if approximate == 'tanh':
            v = t * (c1 + c3 * t * t)
            s = 1 / (1 + mp.exp(-v))
            r = s + t * (c1 + 3 * c3 * t * t) * s * (1 - s) if deriv else t * s
        else:
            r = mp.ncdf(t) + t * mp.npdf(t) if deriv else t * mp.ncdf(t)
        tiny = abs(r) < mp.mpf('1e-4000')          # beyond long double: 0 (or the limit)
        out.append(np.longdouble(0) if tiny else np.longdouble(mp.nstr(r, 30)))
    return np.array(out, dtype=np.longdouble)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_silu_grad_across_its_root_window(dtype):
    """silu' switches to a polynomial in x - x0 within 0.05 (float32) / 0.07 (float64) of its
    zero x0; on both sides of the hand-over, and inside, it stays within 4 ulp."""
    mp = pytest.importorskip('mpmath')
    mp.mp.prec = 200
    root = -1.278464542761074
    x = np.unique((root + np.concatenate([np.linspace(-0.2, 0.2, 3001),
                                          np.linspace(-0.075, -0.045, 601),
                                          np.linspace(0.045, 0.075, 601)])).astype(dtype))
    f = lambda t: (lambda s: s * (1 + t * (1 - s)))(1 / (1 + mp.exp(-t)))
    ref = np.array([np.longdouble(mp.nstr(f(mp.mpf(float(v))), 30)) for v in x])
    err = ulp_error(fl.silu_grad(x), ref, dtype)
    record_ulp('silu_grad (root window)', dtype, err, x)
    i = int(np.argmax(err))
    assert err[i] <= 4, f"{err[i]:.2f} ulp at x={x[i]!r}"


def test_derivative_zero_crossings_keep_relative_accuracy():
    """silu' and gelu' cross zero; next to the zero the two terms cancel.  The kernels stay
    within 4 ulp there (float via double, float64 via long double / __float128)."""
    mp = pytest.importorskip('mpmath')
    mp.mp.prec = 200
    for name, root, f in [
            ('silu_grad', -1.278464542761074,
             lambda t: (lambda s: s * (1 + t * (1 - s)))(1 / (1 + mp.exp(-t)))),
            ('gelu_grad', -0.7517915246935645, lambda t: mp.ncdf(t) + t * mp.npdf(t))]:
        x = root + np.concatenate([-np.geomspace(1e-3, 1e-12, 60), np.geomspace(1e-12, 1e-3, 60)])
        ref = np.array([np.longdouble(mp.nstr(f(mp.mpf(v)), 30)) for v in x.tolist()])
        err = ulp_error(getattr(fl, name)(x), ref, np.float64)
        record_ulp(name + ' (next to its zero)', np.float64, err, x)
        assert err.max() <= 4, f"{name}: {err.max():.2f} ulp"
