"""float32 gelu / gelu_grad (approximate='none'): the float-arithmetic kernel (Mills' ratio as a
continued-fraction rational with one division, e^{-(x^2+ln 2pi)/2} = 2^k e^{r/2} with the scale
2^(k+40) applied exactly and the result rounded once, also into the subnormal range; gelu' as
(|x| - a0) times a rational, so it needs no window at its zero) against mpmath, where its pieces
are stressed: the subnormal tail, the tail just above it, the points where k changes, the clamp
at |x| = 15, the neighbourhood of gelu''s zero, small |x|, special values."""
import numpy as np
import pytest

import fastloss as fl
from conftest import ulp_error, record_ulp
from test_accuracy import mpmath_gelu

GELU_ROOT = -0.7517915246935645        # gelu'(x0) = 0


def check(x, deriv, label, limit=4.0):
    x = np.asarray(x, dtype=np.float32)
    ref = mpmath_gelu(x.astype(np.float64), 'none', deriv)
    got = (fl.gelu_grad if deriv else fl.gelu)(x)
    assert got.dtype == np.float32
    err = ulp_error(got, ref, np.float32)
    record_ulp(label, np.float32, err, x)
    i = int(np.argmax(err))
    assert err[i] <= limit, f"{label}: {err[i]:.2f} ulp at x={x[i]!r}: {got[i]!r} vs {ref[i]!r}"


@pytest.mark.parametrize('deriv', [False, True], ids=['gelu', 'gelu_grad'])
def test_random_points(deriv):
    rng = np.random.default_rng(32)
    x = np.concatenate([rng.uniform(-15, 7, 1500), rng.uniform(-3, 3, 500),
                        -np.geomspace(1e-45, 15, 300), np.geomspace(1e-45, 8, 200)])
    check(x, deriv, 'gelu' + ('_grad' if deriv else '') + ' random (test_gelu32)')


@pytest.mark.parametrize('deriv', [False, True], ids=['gelu', 'gelu_grad'])
def test_tails(deriv):
    """x^2/2 up to ~100 amplifies any error of the exponent; results leave the normal range
    near x = -13.2 and reach 0 near -14.1"""
    x = np.concatenate([np.linspace(-14.3, -12.5, 900), np.linspace(-12.5, -8, 300)])
    check(x, deriv, 'gelu' + ('_grad' if deriv else '') + ' float32 tail')


def test_derivative_next_to_its_zero():
    x0 = np.float32(GELU_ROOT)
    near = [x0]
    for _ in range(20):
        near = [np.nextafter(near[0], np.float32(-1))] + near + [np.nextafter(near[-1], np.float32(0))]
    x = np.concatenate([np.array(near, np.float32),
                        GELU_ROOT + np.linspace(-0.07, 0.07, 1401),
                        GELU_ROOT + 0.0625 + np.linspace(-1e-3, 1e-3, 101),
                        GELU_ROOT - 0.0625 + np.linspace(-1e-3, 1e-3, 101)])
    check(x, True, 'gelu_grad next to its zero (float32)')


@pytest.mark.parametrize('deriv', [False, True], ids=['gelu', 'gelu_grad'])
def test_handover_at_six(deriv):
    """x - x H(x) meets x near here (H < 2^-29): no select any more, the product underflows
    against x; kept as a check of the hand-over region"""
    x = np.concatenate([6 + np.linspace(-0.01, 0.01, 201), [5.999999, 6.0, 6.000001]])
    check(x, deriv, 'gelu' + ('_grad' if deriv else '') + ' x = 6 (float32)')


@pytest.mark.parametrize('deriv', [False, True], ids=['gelu', 'gelu_grad'])
def test_exponent_steps(deriv):
    """k = round(-(x^2 + ln 2pi)/(2 ln2)) steps where x^2 + ln 2pi = (m + 1/2) 2 ln2: both sides
    of every step (the reduced argument r jumps from +ln2 to -ln2 there)"""
    m = np.arange(1, 164)
    a = np.sqrt((m + 0.5) * 2 * np.log(2) - np.log(2 * np.pi))
    a = a[a < 15].astype(np.float32)
    x = np.concatenate([a, np.nextafter(a, np.float32(0)), np.nextafter(a, np.float32(20))])
    x = np.concatenate([x, -x])
    check(x, deriv, 'gelu' + ('_grad' if deriv else '') + ' exponent steps (float32)')


@pytest.mark.parametrize('deriv', [False, True], ids=['gelu', 'gelu_grad'])
def test_small_and_clamped(deriv):
    """|x| small (the rational's roundings are least damped there: the worst points of an
    exhaustive sweep lie at |x| ~ 0.03 and 0.33) and around the clamp |x| = 15"""
    rng = np.random.default_rng(5)
    small = np.concatenate([np.geomspace(1e-38, 1e-3, 300), rng.uniform(0, 1.5, 3000),
                            [0.030015543, 0.32756203, 0.03212204, 1.2249848, 1.3810267]])
    clamp = 15 + np.linspace(-0.05, 0.05, 101)
    x = np.concatenate([small, -small, clamp, -clamp]).astype(np.float32)
    check(x, deriv, 'gelu' + ('_grad' if deriv else '') + ' small |x|, |x| ~ 15 (float32)')


def test_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 20.0, -20.0, 3e38, -3e38], np.float32)
    y = fl.gelu(x)
    assert y[0] == np.inf and y[1] == 0 and np.signbit(y[1]) and np.isnan(y[2])
    assert y[3] == 0 and not np.signbit(y[3]) and y[4] == 0 and np.signbit(y[4])
    assert y[5] == 20.0 and y[6] == 0 and y[7] == np.float32(3e38) and y[8] == 0
    g = fl.gelu_grad(x)
    assert g[0] == 1 and g[1] == 0 and np.isnan(g[2]) and g[3] == 0.5 and g[4] == 0.5
    assert g[5] == 1 and g[6] == 0 and g[7] == 1 and g[8] == 0
    # NaN with the sign bit set propagates too (gelu takes it through the addend x)
    nn = -np.array([np.nan, np.nan], np.float32)
    assert np.signbit(nn[0]) and np.isnan(fl.gelu(nn)).all() and np.isnan(fl.gelu_grad(nn)).all()
    # subnormal inputs: x Phi(x) ~ x/2, rounded once
    tiny = np.array([1e-45, -1e-45, 3e-45, 3e-39, -3e-39, 1.2e-38], np.float32)
    check(tiny, False, 'gelu subnormal x (float32)', limit=1.0)
