"""Train a small MLP (64 -> 128 -> 10) on scikit-learn's digits with fastloss.

Forward and backward passes are NumPy matmuls plus fastloss's activations, their
derivatives (``<act>_grad(z, grad_output)``) and fused losses (``<loss>_value_and_grad``).
Seed 003's activation/loss pairings are compared side by side:

    sigmoid+mse     sigmoid hidden and output units, squared error E = 1/2 sum (y - t)^2
                    per sample (one-hot targets), averaged over the batch
    tanh+mse        the same with tanh units
    relu+ce         ReLU hidden layer, softmax cross-entropy on the logits
    leaky_relu+ce   LeakyReLU (slope 0.01) hidden layer, softmax cross-entropy

Each epoch prints the mean training loss, test accuracy, the time of the training loop,
and diagnostics from fastloss.diagnostics on the training set's hidden pre-activations:
the share of saturated units (sigmoid/tanh: f'(z) < 1e-2) or dead units (ReLU: never
positive), for MSE the share of saturated output units, and the ratio of the gradient
norms of W1 and W2 (<< 1: vanishing).

    python examples/train_mlp_digits.py                    # all four, 30 epochs
    python examples/train_mlp_digits.py --quick            # 3 epochs
    python examples/train_mlp_digits.py --backend reference   # same loop on fl.reference
    python examples/train_mlp_digits.py --configs relu+ce --dtype float64 --plot curves.png

Mini-batch SGD with momentum (PyTorch's rule: v = mu v + g; p -= lr v), batches drawn by a
seeded permutation per epoch, so runs are reproducible; tests/test_example.py trains the
same network with PyTorch from the same weights and batches and compares the losses.
"""
import argparse
import sys
import time

import numpy as np

try:
    import fastloss as fl
except ImportError:          # run from a source checkout with an in-place build
    import os
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import fastloss as fl
from fastloss import diagnostics as D

CONFIGS = {
    # name: (hidden activation, loss); MSE puts the same activation on the output units
    'sigmoid+mse': ('sigmoid', 'mse'),
    'tanh+mse': ('tanh', 'mse'),
    'relu+ce': ('relu', 'ce'),
    'leaky_relu+ce': ('leaky_relu', 'ce'),
}
N_IN, N_HIDDEN, N_OUT = 64, 128, 10


def load_data(dtype=np.float32, seed=0):
    """Digits (1797 8x8 images, bundled with scikit-learn) scaled to [0, 1]; a stratified
    80/20 train/test split.  Returns X_train, y_train, X_test, y_test (y: int64)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(dtype)
    Xtr, Xte, ytr, yte = train_test_split(X, y.astype(np.int64), test_size=0.2,
                                          random_state=seed, stratify=y)
    return Xtr, ytr, Xte, yte


def init_params(activation, dtype=np.float32, seed=0):
    """He-normal weights for (leaky) ReLU, Glorot-normal for sigmoid/tanh; zero biases."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(((N_IN, N_HIDDEN), (N_HIDDEN, N_OUT)), 1):
        std = (np.sqrt(2.0 / fan_in) if 'relu' in activation
               else np.sqrt(2.0 / (fan_in + fan_out)))
        params[f'W{i}'] = (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype)
        params[f'b{i}'] = np.zeros(fan_out, dtype)
    return params


def targets(y, dtype):
    """One-hot targets {0, 1} for the MSE configurations (also for tanh: -1/+1 targets
    push the nine wrong outputs into tanh's flat tail and, with the shared learning rate,
    saturate the network: ~20 % test accuracy, 28 % of the hidden units saturated)."""
    t = np.zeros((len(y), N_OUT), dtype)
    t[np.arange(len(y)), y] = 1
    return t


def batches(n, batch_size, epochs, seed=0):
    """[[index arrays of epoch 0], [epoch 1], ...]: a seeded permutation per epoch."""
    rng = np.random.default_rng(seed + 1)
    out = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        out.append([perm[i:i + batch_size] for i in range(0, n, batch_size)])
    return out


def forward(F, activation, loss, params, X):
    """(z1, h, z2): hidden pre-activations, hidden outputs, output pre-activations."""
    act = getattr(F, activation)
    z1 = X @ params['W1'] + params['b1']
    h = act(z1)
    z2 = h @ params['W2'] + params['b2']
    return z1, h, z2


def loss_and_grads(F, activation, loss, params, X, y, T):
    """Mean loss over the batch and the gradients of every parameter.  F is the module
    providing the kernels: fastloss or fastloss.reference."""
    N = X.shape[0]
    z1, h, z2 = forward(F, activation, loss, params, X)
    if loss == 'mse':
        # E = 1/2 sum (y - t)^2 per sample, averaged: 0.5/N * mse_loss(..., 'sum')
        out = getattr(F, activation)(z2)
        s, d_out = F.mse_loss_value_and_grad(out, T, reduction='sum', grad_output=0.5 / N)
        value = float(s) * 0.5 / N
        dz2 = getattr(F, activation + '_grad')(z2, d_out)
    else:
        value, dz2 = F.cross_entropy_value_and_grad(z2, y)      # mean over the batch
        value = float(value)
    grads = {'W2': h.T @ dz2, 'b2': dz2.sum(axis=0)}
    dh = dz2 @ params['W2'].T
    dz1 = getattr(F, activation + '_grad')(z1, dh)
    grads['W1'] = X.T @ dz1
    grads['b1'] = dz1.sum(axis=0)
    return value, grads


def accuracy(F, activation, loss, params, X, y):
    _, _, z2 = forward(F, activation, loss, params, X)
    return float(np.mean(np.argmax(z2, axis=1) == y))


def diagnose(activation, loss, params, X, y, T):
    """(kind, hidden share, output share, ratio): the share of saturated (sigmoid/tanh) or
    dead (ReLU) hidden units on X, for the MSE configurations also the share of saturated
    output units (where seed 000's sigma'(z) factor bites; nan for cross-entropy, whose
    gradient a - y has no such factor), and the ratio of the L2 norms of the gradients of
    W1 and W2 -- all from fastloss.diagnostics."""
    z1, h, z2 = forward(fl, activation, loss, params, X)
    if activation in ('sigmoid', 'tanh'):
        kind, share = 'saturated', D.saturated_fraction(z1, activation)
    else:
        kind, share = 'dead', D.dead_fraction(z1)
    out = D.saturated_fraction(z2, activation) if loss == 'mse' else float('nan')
    _, grads = loss_and_grads(fl, activation, loss, params, X, y, T)
    norms = D.gradient_norms([grads['W1'], grads['W2']])
    return kind, share, out, float(norms.ratio[0])


def train(config, data, epochs=30, batch_size=32, lr=0.1, momentum=0.9, seed=0,
          dtype=np.float32, backend='fastloss', params=None, diagnostics=True, log=None):
    """Train one configuration.  Returns a dict: 'step_loss' (loss of every mini-batch),
    'epoch_loss', 'test_acc', 'epoch_time' (seconds of the training loop), 'diag' (per
    epoch, see diagnose) and the final 'params'."""
    activation, loss = CONFIGS[config]
    F = fl if backend == 'fastloss' else fl.reference
    Xtr, ytr, Xte, yte = data
    dt = np.dtype(dtype)
    Xtr, Xte = Xtr.astype(dt), Xte.astype(dt)
    Ttr = targets(ytr, dt)
    p = {k: v.astype(dt, copy=True) for k, v in
         (params or init_params(activation, dt, seed)).items()}
    vel = {k: np.zeros_like(v) for k, v in p.items()}
    lr, momentum = dt.type(lr), dt.type(momentum)
    hist = {'step_loss': [], 'epoch_loss': [], 'test_acc': [], 'epoch_time': [], 'diag': []}
    for e, epoch_batches in enumerate(batches(len(Xtr), batch_size, epochs, seed)):
        t0 = time.perf_counter()
        losses = []
        for idx in epoch_batches:
            value, grads = loss_and_grads(F, activation, loss, p, Xtr[idx], ytr[idx], Ttr[idx])
            losses.append(value)
            for k in p:
                vel[k] *= momentum
                vel[k] += grads[k]
                p[k] -= lr * vel[k]
        hist['epoch_time'].append(time.perf_counter() - t0)
        hist['step_loss'] += losses
        hist['epoch_loss'].append(float(np.mean(losses)))
        hist['test_acc'].append(accuracy(F, activation, loss, p, Xte, yte))
        if diagnostics:
            hist['diag'].append(diagnose(activation, loss, p, Xtr, ytr, Ttr))
        if log:
            d = ('  ' + _diag_text(hist['diag'][-1]) if diagnostics else '')
            log(f"  {config:<14} epoch {e + 1:3d}  loss {hist['epoch_loss'][-1]:.5f}  "
                f"test acc {100 * hist['test_acc'][-1]:5.1f}%  "
                f"{1e3 * hist['epoch_time'][-1]:7.2f} ms{d}")
    hist['params'] = p
    return hist


def _diag_text(diag):
    kind, share, out, ratio = diag
    o = f", output sat. {100 * out:5.1f}%" if out == out else ''
    return f"hidden {kind} {100 * share:5.1f}%{o}, |gW1|/|gW2| {ratio:.3f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='3 epochs (for tests)')
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--momentum', type=float, default=0.9)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--dtype', choices=('float32', 'float64'), default='float32')
    ap.add_argument('--backend', choices=('fastloss', 'reference'), default='fastloss',
                    help="kernels: fastloss, or the NumPy reference fl.reference")
    ap.add_argument('--configs', default=','.join(CONFIGS),
                    help=f"comma-separated subset of {', '.join(CONFIGS)}")
    ap.add_argument('--no-diagnostics', action='store_true')
    ap.add_argument('--plot', metavar='FILE', help='PNG of the loss and accuracy curves')
    args = ap.parse_args(argv)
    epochs = 3 if args.quick else args.epochs
    configs = [c.strip() for c in args.configs.split(',') if c.strip()]
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        ap.error(f"unknown config(s) {bad}; choose from {list(CONFIGS)}")
    data = load_data(np.dtype(args.dtype), args.seed)
    print(f"digits: {len(data[0])} train / {len(data[2])} test, MLP {N_IN}-{N_HIDDEN}-{N_OUT}, "
          f"{epochs} epochs, batch {args.batch_size}, SGD lr {args.lr} momentum "
          f"{args.momentum}, {args.dtype}, backend {args.backend}, "
          f"{fl.get_num_threads()} thread(s)")
    results = {}
    for c in configs:
        results[c] = train(c, data, epochs, args.batch_size, args.lr, args.momentum,
                           args.seed, np.dtype(args.dtype), args.backend,
                           diagnostics=not args.no_diagnostics, log=print)
    print()
    print(f"{'config':<15}{'test acc':>9}{'best':>8}{'final loss':>12}{'ms/epoch':>10}"
          f"   diagnostics (last epoch)")
    for c, h in results.items():
        diag = _diag_text(h['diag'][-1]) if h['diag'] else ''
        # the first epoch includes warm-up (first calls, page faults): report the median
        print(f"{c:<15}{100 * h['test_acc'][-1]:8.1f}%{100 * max(h['test_acc']):7.1f}%"
              f"{h['epoch_loss'][-1]:12.5f}{1e3 * np.median(h['epoch_time']):10.2f}"
              f"   {diag}")
    print("loss curves (mean training loss per epoch):")
    for c, h in results.items():
        print(f"  {c:<14} " + ' '.join(f"{v:.4f}" for v in h['epoch_loss']))
    if args.plot:
        try:
            import matplotlib
            matplotlib.use('Agg')
            import matplotlib.pyplot as plt
        except ImportError:
            print('(matplotlib is not installed: no plot written)')
            return 0
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
        for c, h in results.items():
            x = np.arange(1, epochs + 1)
            a1.semilogy(x, h['epoch_loss'], label=c)
            a2.plot(x, 100 * np.array(h['test_acc']), label=c)
        a1.set(xlabel='epoch', ylabel='training loss')
        a2.set(xlabel='epoch', ylabel='test accuracy (%)')
        a2.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=100)
        print(f"wrote {args.plot}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
