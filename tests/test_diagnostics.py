"""fastloss.diagnostics against NumPy: saturation, dead relu units, gradient norms."""
import math

import numpy as np
import pytest

import fastloss as fl
from fastloss import diagnostics as D
from fastloss import reference as R


def _z(shape, dtype, scale=4.0, seed=0):
    return np.random.default_rng(seed).normal(0.0, scale, shape).astype(dtype)


# ---- saturation ---------------------------------------------------------------------------

@pytest.mark.parametrize('activation', ['sigmoid', 'tanh'])
@pytest.mark.parametrize('tol', [1e-1, 1e-2, 1e-3, 1e-8, 1e-300])
def test_threshold_solves_derivative(activation, tol):
    zt = D.saturation_threshold(activation, tol)
    d = getattr(R, activation + '_grad')(np.float64(zt))
    assert d == pytest.approx(tol, rel=1e-12)
    # just inside is not saturated, just outside is
    assert getattr(R, activation + '_grad')(np.float64(zt * (1 - 1e-9))) >= tol
    assert getattr(R, activation + '_grad')(np.float64(zt * (1 + 1e-9))) < tol


def test_threshold_defaults_and_edges():
    assert D.SATURATION_TOL == 1e-2
    assert D.saturation_threshold() == pytest.approx(4.584863339, abs=1e-8)
    assert D.saturation_threshold('tanh') == pytest.approx(2.993222846, abs=1e-8)
    assert D.saturation_threshold('sigmoid', 0.25) == 0.0      # only z = 0 reaches 1/4
    assert D.saturation_threshold('sigmoid', 0.3) == -1.0      # everything saturated
    assert D.saturation_threshold('tanh', 2.0) == -1.0
    assert D.saturated_fraction(np.array([0.0, 1.0, -2.0]), 'sigmoid', tol=0.3) == 1.0
    assert D.saturated_fraction(np.array([0.0, 1e-9]), 'sigmoid', tol=0.25) == 0.5


@pytest.mark.parametrize('activation', ['sigmoid', 'tanh'])
@pytest.mark.parametrize('tol', [1e-2, 1e-3])
def test_saturated_fraction_vs_numpy(dtype, activation, tol):
    z = _z((300, 70), dtype)
    zt = D.saturation_threshold(activation, tol)
    expected = np.mean(np.abs(z.astype(np.float64)) > zt)
    got = D.saturated_fraction(z, activation, tol)
    assert isinstance(got, float)
    assert got == expected
    # the same thing said with the derivative (boundary rounding aside)
    deriv = getattr(R, activation + '_grad')(z.astype(np.float64))
    assert abs(got - np.mean(deriv < tol)) <= 2 / z.size


def test_saturated_fraction_float32_boundary():
    """float32 inputs straddling the float64 threshold: compared exactly, as in float64."""
    zt = D.saturation_threshold('sigmoid')
    f = np.float32(zt)
    vals = np.array([np.nextafter(f, np.float32(0)), f, np.nextafter(f, np.float32(9))] * 2,
                    np.float32)
    vals[3:] *= -1
    expected = np.mean(np.abs(vals.astype(np.float64)) > zt)
    assert D.saturated_fraction(vals) == expected
    assert 0 < expected < 1


def test_saturated_fraction_special_values():
    z = np.array([np.nan, np.inf, -np.inf, 0.0])
    assert D.saturated_fraction(z) == 0.5           # nan never counts, +-inf do
    assert math.isnan(D.saturated_fraction(np.empty((0, 3))))
    assert D.saturated_fraction(7.0) == 1.0        # scalars and lists are fine
    assert D.saturated_fraction([[0.0, 9.0]], 'tanh') == 0.5


def test_saturated_fraction_layouts(dtype):
    z = _z((64, 80), dtype)
    ref = D.saturated_fraction(z)
    assert D.saturated_fraction(np.asfortranarray(z)) == ref
    assert D.saturated_fraction(z[:, ::2]) == D.saturated_fraction(np.ascontiguousarray(z[:, ::2]))
    assert D.saturated_fraction(z.astype(z.dtype.newbyteorder())) == ref
    ro = z.copy()
    ro.flags.writeable = False
    assert D.saturated_fraction(ro) == ref
    zi = z.astype(np.int64)
    assert D.saturated_fraction(zi) == D.saturated_fraction(zi.astype(np.float64))


def test_saturation_bad_input():
    with pytest.raises(ValueError, match='activation'):
        D.saturated_fraction(np.zeros(3), 'relu')
    with pytest.raises(ValueError, match='tol'):
        D.saturated_fraction(np.zeros(3), 'sigmoid', tol=0)
    with pytest.raises(ValueError, match='tol'):
        D.saturated_fraction(np.zeros(3), 'sigmoid', tol=math.inf)
    with pytest.raises(TypeError, match='tol'):
        D.saturated_fraction(np.zeros(3), 'sigmoid', tol='big')
    with pytest.raises(TypeError, match='z'):
        D.saturated_fraction(np.zeros(3, complex))
    with pytest.raises(TypeError, match='z'):
        D.saturated_fraction(np.array(['a']))


# ---- dead relu units ----------------------------------------------------------------------

def test_dead_units_vs_numpy(dtype):
    z = _z((200, 130), dtype, scale=1.0)
    z[:, ::7] = -np.abs(z[:, ::7])          # dead
    z[5, 14] = 1e-30                         # one positive sample keeps column 14 alive
    z[:, 3] = 0.0                            # zero is not positive: dead
    mask = D.dead_units(z)
    expected = ~np.any(z > 0, axis=0)
    assert mask.dtype == bool and mask.shape == (130,)
    np.testing.assert_array_equal(mask, expected)
    assert not mask[14] and mask[3] and mask[0]
    assert D.dead_fraction(z) == np.mean(expected)


def test_dead_units_nd_and_edges():
    z = _z((10, 3, 4, 5), np.float64, scale=1.0) - 1.5
    np.testing.assert_array_equal(D.dead_units(z), ~np.any(z > 0, axis=0))
    assert D.dead_units(z).shape == (3, 4, 5)
    assert D.dead_units(np.array([[np.nan, -1.0], [np.nan, 2.0]])).tolist() == [True, False]
    np.testing.assert_array_equal(D.dead_units(np.empty((0, 4))), np.ones(4, bool))
    assert math.isnan(D.dead_fraction(np.empty((5, 0))))
    assert D.dead_fraction(np.asfortranarray(z.reshape(10, -1))) == np.mean(~np.any(z > 0, axis=0))
    with pytest.raises(ValueError, match='z must have shape'):
        D.dead_units(np.zeros(5))
    with pytest.raises(TypeError, match='z'):
        D.dead_fraction(np.zeros((2, 2), object))


# ---- gradient norms -----------------------------------------------------------------------

def test_gradient_norms_vs_numpy(dtype):
    rng = np.random.default_rng(1)
    grads = [rng.normal(0, s, shape).astype(dtype)
             for s, shape in ((1e-4, (64, 128)), (1e-2, (128,)), (1.0, (128, 10)), (3.0, (5000,)))]
    r = D.gradient_norms(grads)
    l2 = np.array([np.sqrt(np.sum(g.astype(np.float64) ** 2)) for g in grads])
    np.testing.assert_allclose(r.l2, l2, rtol=1e-13)
    np.testing.assert_allclose(r.rms, l2 / np.sqrt([g.size for g in grads]), rtol=1e-13)
    np.testing.assert_array_equal(r.max_abs, [np.max(np.abs(g)).astype(np.float64) for g in grads])
    np.testing.assert_allclose(r.ratio, l2[:-1] / l2[1:], rtol=1e-13)
    assert r.ratio[0] < 0.1                  # vanishing towards the input
    assert 'L2 ratio' in str(r)


def test_gradient_norms_extreme_float64():
    g = _z((1000,), np.float64, scale=1.0)
    base = np.sqrt(np.sum(g ** 2))
    for s in (1e-300, 1e-200, 1e200, 1e300):
        r = D.gradient_norms([g * s])
        np.testing.assert_allclose(r.l2[0] / s, base, rtol=1e-12)
        assert r.max_abs[0] == np.max(np.abs(g * s))
    sub = np.array([3, -4, 12], np.float64) * 5e-324          # subnormals: norm 13 * 5e-324
    assert D.gradient_norms([sub]).l2[0] == 13 * 5e-324


def test_gradient_norms_special():
    r = D.gradient_norms([np.array([1.0, np.nan]), np.array([np.inf, 1.0]), np.zeros(3),
                          np.zeros(0), np.zeros(2)])
    assert np.isnan(r.l2[0]) and np.isnan(r.max_abs[0])
    assert r.l2[1] == np.inf and r.max_abs[1] == np.inf
    assert r.l2[2] == 0 and r.l2[3] == 0 and np.isnan(r.rms[3])
    assert r.ratio[1] == np.inf and np.isnan(r.ratio[2])
    assert D.gradient_norms([]).l2.shape == (0,) and D.gradient_norms([]).ratio.shape == (0,)
    assert D.gradient_norms([np.ones(4)]).ratio.shape == (0,)
    assert D.gradient_norms(([3.0, 4.0],)).l2[0] == 5.0


def test_gradient_norms_bad_input():
    with pytest.raises(TypeError, match='grads must be a sequence'):
        D.gradient_norms(np.ones((3, 3)))
    with pytest.raises(TypeError, match='grads must be a sequence'):
        D.gradient_norms(3.0)
    with pytest.raises(TypeError, match=r'grads\[1\]'):
        D.gradient_norms([np.ones(3), np.ones(3, complex)])


# ---- threads ------------------------------------------------------------------------------

def test_thread_count_invariance(dtype):
    """Above the grain the kernels run in parallel; results are bitwise identical."""
    z = _z((2100, 300), dtype)               # 630k elements: 2 threads where available
    z[:, :17] = -np.abs(z[:, :17])
    grads = [z, z[:1000] * 1e-3]
    results = []
    for nt in (1, 2, 3):
        with fl.num_threads(nt):
            results.append((D.saturated_fraction(z), D.saturated_fraction(z, 'tanh', 1e-3),
                            D.dead_units(z), D.gradient_norms(grads)))
    for r in results[1:]:
        assert r[0] == results[0][0] and r[1] == results[0][1]
        np.testing.assert_array_equal(r[2], results[0][2])
        for a, b in zip(r[3], results[0][3]):
            assert a.tobytes() == b.tobytes()
    assert results[0][0] == np.mean(np.abs(z.astype(np.float64)) > D.saturation_threshold())
    np.testing.assert_array_equal(results[0][2], ~np.any(z > 0, axis=0))
    np.testing.assert_allclose(results[0][3].l2[0], np.sqrt(np.sum(z.astype(np.float64) ** 2)),
                               rtol=1e-13)
