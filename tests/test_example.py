"""examples/train_mlp_digits.py: the fastloss training loop against PyTorch autograd (same
weights, same batches, float64), against the NumPy reference backend, and the script."""
import importlib.util
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import fastloss as fl

pytest.importorskip('sklearn')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'examples', 'train_mlp_digits.py')
# the script imports the fastloss these tests use (installed, or this in-place build)
_PATH = [os.path.dirname(os.path.dirname(fl.__file__))]
_PATH += [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(_PATH))


@pytest.fixture(scope='module')
def ex():
    spec = importlib.util.spec_from_file_location('train_mlp_digits', SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def data64(ex):
    return ex.load_data(np.float64)


def torch_step_losses(torch, ex, config, data, epochs, batch_size, lr, momentum, seed, params):
    """The same network and SGD-with-momentum loop, written with torch autograd."""
    F = torch.nn.functional
    torch.set_num_threads(1)                 # tiny ops: threads only add overhead here
    activation, loss = ex.CONFIGS[config]
    act = {'sigmoid': torch.sigmoid, 'tanh': torch.tanh, 'relu': F.relu,
           'leaky_relu': lambda z: F.leaky_relu(z, 0.01)}[activation]
    Xtr, ytr = torch.from_numpy(data[0]), torch.from_numpy(data[1])
    T = torch.from_numpy(ex.targets(data[1], np.float64))
    P = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.SGD(list(P.values()), lr=lr, momentum=momentum)
    losses = []
    for epoch_batches in ex.batches(len(data[0]), batch_size, epochs, seed):
        for idx in epoch_batches:
            idx = torch.from_numpy(idx)
            X = Xtr[idx]
            z2 = act(X @ P['W1'] + P['b1']) @ P['W2'] + P['b2']
            if loss == 'mse':
                L = 0.5 / len(idx) * F.mse_loss(act(z2), T[idx], reduction='sum')
            else:
                L = F.cross_entropy(z2, ytr[idx])
            opt.zero_grad()
            L.backward()
            opt.step()
            losses.append(L.item())
    return np.array(losses), {k: v.detach().numpy() for k, v in P.items()}


@pytest.mark.parametrize('config', ['sigmoid+mse', 'tanh+mse', 'relu+ce', 'leaky_relu+ce'])
def test_loss_curve_matches_torch(ex, data64, torch, config):
    epochs, bs, lr, mu, seed = 2, 32, 0.1, 0.9, 3
    params = ex.init_params(ex.CONFIGS[config][0], np.float64, seed)
    hist = ex.train(config, data64, epochs, bs, lr, mu, seed, np.float64, params=params,
                    diagnostics=False)
    ref, ref_params = torch_step_losses(torch, ex, config, data64, epochs, bs, lr, mu, seed,
                                        params)
    got = np.array(hist['step_loss'])
    assert got.shape == ref.shape == (2 * 45,)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
    for k in params:
        np.testing.assert_allclose(hist['params'][k], ref_params[k], rtol=1e-8, atol=1e-10)
    assert got[-1] < got[0]                  # it learns


@pytest.mark.parametrize('config', ['tanh+mse', 'relu+ce'])
def test_reference_backend_matches(ex, data64, config):
    """The same loop on fl.reference (NumPy, long double) gives the same curve."""
    kw = dict(epochs=2, seed=1, dtype=np.float64, diagnostics=False)
    a = ex.train(config, data64, **kw)
    b = ex.train(config, data64, backend='reference', **kw)
    np.testing.assert_allclose(a['step_loss'], b['step_loss'], rtol=1e-9)
    assert a['test_acc'] == b['test_acc']


def test_relu_ce_reaches_95_percent(ex):
    data = ex.load_data(np.float32)
    t0 = time.perf_counter()
    hist = ex.train('relu+ce', data, epochs=15, diagnostics=False)
    assert time.perf_counter() - t0 < 60
    assert hist['test_acc'][-1] >= 0.95, hist['test_acc']


def test_diagnostics_in_the_loop(ex, data64):
    hist = ex.train('sigmoid+mse', data64, epochs=1, dtype=np.float64)
    kind, share, out, ratio = hist['diag'][0]
    assert kind == 'saturated' and 0 <= share <= 1 and 0 <= out <= 1 and ratio > 0
    hist = ex.train('relu+ce', data64, epochs=1, dtype=np.float64)
    assert hist['diag'][0][0] == 'dead' and np.isnan(hist['diag'][0][2])


def test_script_quick(tmp_path):
    r = subprocess.run([sys.executable, SCRIPT, '--quick', '--plot', str(tmp_path / 'c.png')],
                       cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for c in ('sigmoid+mse', 'tanh+mse', 'relu+ce', 'leaky_relu+ce'):
        assert f'{c:<14} epoch   3' in out
    summary = [l for l in out.splitlines() if l.startswith('relu+ce ')]
    assert len(summary) == 1
    assert float(summary[0].split()[1].rstrip('%')) >= 90.0, out
    assert 'loss curves' in out and 'ms/epoch' in out


def test_script_bad_config():
    r = subprocess.run([sys.executable, SCRIPT, '--configs', 'relu+hinge'], cwd=ROOT, env=ENV,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'unknown config' in r.stderr
