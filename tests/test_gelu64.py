"""float64 gelu / gelu_grad ('none' and 'tanh'): the branch-free double kernels against mpmath,
at the places where one of their pieces hands over to another ('none': Mills' ratio times an
exp with x^2 in the reduction, polynomials for small |x|; 'tanh': double-double arguments and a
polynomial window next to the derivative's zero)."""
import numpy as np
import pytest

import fastloss as fl
from conftest import ulp_error, record_ulp
from test_accuracy import mpmath_gelu

GELU_ROOT = -0.7517915246935645        # gelu'(x0) = 0, nearest double
TANH_ROOT = -0.7524614220710163        # the tanh form's


def check(x, approximate, deriv, label, limit=4.0):
    x = np.asarray(x, dtype=np.float64)
    ref = mpmath_gelu(x, approximate, deriv)
    f = fl.gelu_grad if deriv else fl.gelu
    got = f(x, approximate=approximate)
    err = ulp_error(got, ref, np.float64)
    record_ulp(label, np.float64, err, x)
    i = int(np.argmax(err))
    assert err[i] <= limit, f"{label}: {err[i]:.2f} ulp at x={x[i]!r}: {got[i]!r} vs {ref[i]!r}"


FUNCS = [('none', False), ('none', True), ('tanh', False), ('tanh', True)]
IDS = ['gelu', 'gelu_grad', 'gelu_tanh', 'gelu_tanh_grad']


@pytest.mark.parametrize('approximate,deriv', FUNCS, ids=IDS)
def test_random_points(approximate, deriv):
    rng = np.random.default_rng(64)
    x = np.concatenate([rng.uniform(-40, 40, 1500), rng.uniform(-3, 3, 1000),
                        -np.geomspace(1e-300, 40, 300), np.geomspace(1e-300, 40, 200)])
    name = 'gelu' + ('_grad' if deriv else '') + ('(tanh)' if approximate == 'tanh' else '')
    check(x, approximate, deriv, name + ' random (test_gelu64)')


@pytest.mark.parametrize('approximate,deriv', FUNCS, ids=IDS)
def test_subnormal_results(approximate, deriv):
    """the tails where the result leaves the normal range: it must be rounded once"""
    lo, hi = (-38.7, -36.5) if approximate == 'none' else (-21.7, -19.8)
    x = np.linspace(lo, hi, 700)
    check(x, approximate, deriv, 'gelu subnormal tail')


def test_piece_boundaries():
    """'none': the small-|x| polynomials hand over to the Mills-ratio form at |x| = 1/2 (gelu)
    and |x| = 0.3 (gelu'); |x| is clamped at 38.75 (both results round to 0 beyond)"""
    for deriv, b in ((False, 0.5), (True, 0.3)):
        e = np.concatenate([b + np.linspace(-1e-3, 1e-3, 101), [np.nextafter(b, 0), b, np.nextafter(b, 1)]])
        check(np.concatenate([e, -e]), 'none', deriv, 'gelu pieces')
    x = np.concatenate([-38.75 + np.linspace(-0.05, 0.05, 41), [38.75, 38.7, 39.0]])
    for deriv in (False, True):
        check(x, 'none', deriv, 'gelu clamp')


def test_exp_reduction_steps():
    """'none': e^{-(x^2 + ln 2pi)/2} = 2^-k e^{-r/2}; k steps where x^2 + ln(2pi) = (m + 1/2) 2ln2,
    |r| is largest there (both sides, and the largest k, next to underflow)"""
    m = np.array([1, 2, 3, 5, 8, 13, 40, 100, 300, 700, 1000, 1060, 1075, 1080])
    b = np.sqrt((m + 0.5) * 2 * np.log(2) - np.log(2 * np.pi))
    x = (b[:, None] * (1 + np.array([-1e-9, -1e-15, 0.0, 1e-15, 1e-9])[None, :])).ravel()
    for deriv in (False, True):
        check(np.concatenate([x, -x]), 'none', deriv, 'gelu exp reduction')


@pytest.mark.parametrize('approximate,root,window', [('none', GELU_ROOT, 0.25),
                                                     ('tanh', TANH_ROOT, 0.1)], ids=['none', 'tanh'])
def test_derivative_next_to_its_zero(approximate, root, window):
    """relative accuracy right at the zero (1e-12 .. 1e-3 away, and the doubles next to it) and
    across the edges of the tanh form's polynomial window (where the cancelling formula takes
    over; 'none' has no window: (|x| - a0) is carried exactly, the points are ordinary ones)"""
    near = np.concatenate([-np.geomspace(1e-3, 1e-12, 50), np.geomspace(1e-12, 1e-3, 50), [0.0],
                           np.arange(-4, 5) * np.spacing(root)])
    edge = np.concatenate([window + np.linspace(-0.02, 0.02, 81), -window + np.linspace(-0.02, 0.02, 81)])
    check(root + np.concatenate([near, edge]), approximate, True, f'gelu_grad({approximate}) near zero')


@pytest.mark.parametrize('approximate', ['none', 'tanh'])
def test_special_values(approximate):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e300, -1e300, 5e-324, -5e-324, 40.5, -40.5])
    with np.errstate(all='raise'):
        y = fl.gelu(x, approximate=approximate)
        d = fl.gelu_grad(x, approximate=approximate)
    assert y[0] == np.inf and y[1] == 0 and np.isnan(y[2])
    assert y[3] == 0 and not np.signbit(y[3]) and y[4] == 0 and np.signbit(y[4])
    assert y[5] == 1e300 and y[6] == 0 and y[9] == 40.5 and y[10] == 0
    assert d[0] == 1 and d[1] == 0 and np.isnan(d[2]) and d[3] == 0.5 and d[4] == 0.5
    assert d[5] == 1 and d[6] == 0 and d[9] == 1 and d[10] == 0
    # a subnormal x: gelu(x) = x/2 + x^2/sqrt(2 pi): x/2, within one subnormal spacing
    assert abs(y[7] - 2.5e-324) <= 5e-324 and abs(y[8] + 2.5e-324) <= 5e-324
    assert d[7] == 0.5 and d[8] == 0.5


@pytest.mark.parametrize('approximate', ['none', 'tanh'])
def test_vector_body_and_remainder_agree(approximate):
    """the vectorized loop body and its scalar remainder compute the same element function"""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-40, 40, 64), rng.uniform(-1.2, -0.3, 64)])
    full = fl.gelu(x, approximate=approximate), fl.gelu_grad(x, approximate=approximate)
    for i in range(0, x.size, 5):
        part = x[i:i + 3]                          # 1..3 elements: the remainder path only
        np.testing.assert_array_equal(fl.gelu(part, approximate=approximate), full[0][i:i + 3])
        np.testing.assert_array_equal(fl.gelu_grad(part, approximate=approximate), full[1][i:i + 3])
