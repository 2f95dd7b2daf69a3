"""`python -m fastloss demo`: the seed-000 single-neuron experiment reproduces the seed."""
import os
import subprocess
import sys

import numpy as np
import pytest

from fastloss import _demo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def runs():
    return _demo.run_all()


def test_seed_numbers(runs):
    """Step k = after k updates.  The seed: from (0.6, 0.9) MSE learns quickly and ends
    near 0.09; from (2, 2) it barely moves for ~150 steps (a ~ 0.93) and ends near 0.2;
    cross-entropy ends near 0.012 from both starts."""
    mse_a, mse_b = runs[('mse', (0.6, 0.9))]['a'], runs[('mse', (2.0, 2.0))]['a']
    ce_a, ce_b = runs[('cross_entropy', (0.6, 0.9))]['a'], runs[('cross_entropy', (2.0, 2.0))]['a']
    assert len(mse_a) == 301
    np.testing.assert_allclose([mse_a[0], mse_a[150], mse_a[300]],
                               [0.8175745, 0.1527399, 0.0939557], atol=1e-6)
    np.testing.assert_allclose([mse_b[0], mse_b[150], mse_b[300]],
                               [0.9820138, 0.9334175, 0.2028484], atol=1e-6)
    np.testing.assert_allclose([ce_a[150], ce_a[300]], [0.0240652, 0.0116382], atol=1e-6)
    np.testing.assert_allclose([ce_b[150], ce_b[300]], [0.0256854, 0.0120087], atol=1e-6)
    assert mse_a[50] < 0.5                    # learns quickly
    assert mse_b[150] > 0.93 and mse_b[100] > 0.96   # stuck while saturated
    # the seed prints the output before each of its 300 updates: steps 0..299
    assert mse_a[299] == pytest.approx(0.0941610, abs=1e-6)
    assert mse_b[299] == pytest.approx(0.2044666, abs=1e-6)


def test_losses_are_the_formulas(runs):
    for (loss, start), r in runs.items():
        a = r['a']
        expected = 0.5 * a ** 2 if loss == 'mse' else -np.log1p(-a)
        np.testing.assert_allclose(r['loss'], expected, rtol=1e-12)


def test_bce_on_probabilities_agrees(runs):
    """BCE on a, chained through sigma'(z), gives the same trajectory as BCE with logits."""
    r = _demo.train(2.0, 2.0, 'cross_entropy', ce_form='probabilities')
    np.testing.assert_allclose(r['a'], runs[('cross_entropy', (2.0, 2.0))]['a'], rtol=1e-10)


def test_float32():
    r = _demo.train(2.0, 2.0, 'mse', dtype=np.float32)
    assert r['a'].dtype == np.float32
    assert r['a'][300] == pytest.approx(0.2028484, abs=1e-4)


def test_bad_arguments():
    with pytest.raises(ValueError, match='loss'):
        _demo.train(0.6, 0.9, 'hinge')
    with pytest.raises(ValueError, match='ce_form'):
        _demo.train(0.6, 0.9, 'cross_entropy', ce_form='log')


def test_cli(tmp_path):
    png = tmp_path / 'curves.png'
    r = subprocess.run([sys.executable, '-m', 'fastloss', 'demo', '--plot', str(png)],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert 'squared error  (2.0, 2.0)       0.9820   0.9334   0.2028' in out
    assert 'squared error  (0.6, 0.9)       0.8176   0.1527   0.0940' in out
    assert 'cross-entropy  (0.6, 0.9)       0.8176   0.0241   0.0116' in out
    assert 'cross-entropy  (2.0, 2.0)       0.9820   0.0257   0.0120' in out
    assert "sigma'(z)" in out
    pytest.importorskip('matplotlib')
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_cli_without_matplotlib(tmp_path):
    png = tmp_path / 'curves.png'
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from fastloss.__main__ import main\n"
            f"sys.exit(main(['demo', '--plot', {str(png)!r}]))")
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert 'cross-entropy  (2.0, 2.0)' in r.stdout
    assert 'matplotlib is not installed' in r.stdout
    assert not png.exists()
