"""``python -m fastloss bench``: time every kernel against its peers on this machine.

Peers: the NumPy reference (``fastloss.reference``), and when installed PyTorch,
SciPy (``scipy.special``) and scikit-learn (``sklearn._loss.loss``).  One row is one
kernel x size x dtype x thread count; the implementations of a row are timed
round-robin (A, B, C, A, B, C, ...) after a warm-up each, and the median per-call time
is kept, so that drift of the machine hits all of them alike.  The number of calls per
sample and of rounds comes from a time budget per row; where fastloss and its fastest peer
end within 10% of each other, those two get twice their rounds again (see ``Timer``).

The spec table (``SPECS``) and the helpers ``cases``/``make_inputs``/``make_callables``
are shared with the pytest-benchmark suite in ``bench/``.

Conventions, also printed with the table:

* speed-up = peer time / fastloss time (> 1: fastloss is faster);
* ns/element counts the elements of the first input (N*C for row-wise kernels,
  T*N*C for CTC);
* every implementation allocates its result (no ``out=``), as a user would call it;
* PyTorch values are plain forward calls on tensors that do not require grad; gradients
  of activations use the ATen backward ops (``sigmoid_backward(g, sigmoid(x))``...: the
  forward is included because fastloss's ``_grad`` starts from x), losses'
  ``value_and_grad`` and ``prelu_grad`` use autograd (forward + backward);
  ``torch*`` marks losses that PyTorch lacks, composed from torch ops;
* the NumPy reference (long double, slow on purpose) gets a small budget and is skipped
  where one call would take longer than ``--ref-limit`` seconds;
* NumPy reference and SciPy are single-threaded: they are timed in the first thread
  setting of a row and reused for the others.
"""
import argparse
import gc
import json
import math
import os
import platform
import re
import sys
import time
import zlib
from functools import partial
from itertools import repeat

import numpy as np

ELEMENTWISE_SIZES = (64, 10**3, 10**5, 10**6, 10**7)
ROWWISE_SHAPES = ((64, 10), (1024, 10), (4096, 1000), (256, 32000))
CTC_SHAPES = ((200, 32, 50, 40),)  # (T, N, C, S)
QUICK_ELEMENTWISE = (10**3, 10**6)
QUICK_ROWWISE = ((64, 10), (4096, 1000))
PEERS = ('numpy', 'torch', 'scipy', 'sklearn')
IMPLS = ('fastloss',) + PEERS
SINGLE_THREADED = ('numpy', 'scipy')  # timed once per kernel/size/dtype, reused across threads
PRELU_CHANNELS = 16
REF_UNKNOWN_MAX = 10**6  # reference with no estimate from a smaller size: skip above


# --------------------------------------------------------------------------- inputs

def _softmax64(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax64(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _labels01(rng, n, dt, p=0.5):
    return (rng.random(n) < p).astype(dt)


def _in_x(rng, shape, dt):
    return {'x': rng.standard_normal(shape, dtype=dt)}


def _in_xg(rng, shape, dt):
    return {'x': rng.standard_normal(shape, dtype=dt), 'g': rng.standard_normal(shape, dtype=dt)}


def _in_prelu(rng, n, dt):
    shape = (max(1, n // PRELU_CHANNELS), PRELU_CHANNELS)
    return {'x': rng.standard_normal(shape, dtype=dt), 'g': rng.standard_normal(shape, dtype=dt),
            'w': (0.25 + 0.1 * rng.uniform(-1, 1, PRELU_CHANNELS)).astype(dt)}


def _in_reg(rng, n, dt):
    return {'input': rng.standard_normal(n, dtype=dt), 'target': rng.standard_normal(n, dtype=dt)}


def _in_pos(rng, n, dt):  # msle, mape: positive values (log-normal)
    return {'input': np.exp(0.5 * rng.standard_normal(n)).astype(dt),
            'target': np.exp(0.5 * rng.standard_normal(n)).astype(dt)}


def _in_prob(rng, n, dt):  # BCE: probabilities in (0, 1), 0/1 labels that agree with them
    p = 1.0 / (1.0 + np.exp(-2.0 * rng.standard_normal(n)))
    return {'input': p.astype(dt), 'target': (rng.random(n) < p).astype(dt)}


def _in_logit(rng, n, dt):  # BCE with logits: logits, 0/1 labels
    return {'input': 2.0 * rng.standard_normal(n, dtype=dt), 'target': _labels01(rng, n, dt)}


def _in_pm1(rng, n, dt):  # hinge / exponential: scores, +-1 labels
    return {'input': rng.standard_normal(n, dtype=dt),
            'target': np.where(rng.random(n) < 0.5, -1.0, 1.0).astype(dt)}


def _in_kl(rng, n, dt):  # kl_div: input log q, target p
    return {'input': np.log(rng.uniform(0.01, 1.0, n)).astype(dt),
            'target': rng.uniform(0.0, 1.0, n).astype(dt)}


def _in_poisson(rng, n, dt):  # log rates, Poisson counts
    lr = 0.5 * rng.standard_normal(n)
    return {'input': lr.astype(dt), 'target': rng.poisson(np.exp(lr)).astype(dt)}


def _in_ce(rng, shape, dt):  # logits (N, C), class indices
    n, c = shape
    return {'input': rng.standard_normal(shape, dtype=dt),
            'target': rng.integers(0, c, n, dtype=np.int64)}


def _in_nll(rng, shape, dt):  # log-probabilities (N, C), class indices
    n, c = shape
    return {'input': _log_softmax64(rng.standard_normal(shape)).astype(dt),
            'target': rng.integers(0, c, n, dtype=np.int64)}


def _in_cce(rng, shape, dt):  # probabilities (N, C), one-hot targets
    n, c = shape
    t = np.zeros(shape, dtype=dt)
    t[np.arange(n), rng.integers(0, c, n)] = 1
    return {'input': _softmax64(rng.standard_normal(shape)).astype(dt), 'target': t}


def _in_ctc(rng, shape, dt):
    T, N, C, S = shape
    return {'log_probs': _log_softmax64(rng.standard_normal((T, N, C))).astype(dt),
            'targets': rng.integers(1, C, (N, S), dtype=np.int64),
            'input_lengths': np.full(N, T, dtype=np.int64),
            'target_lengths': rng.integers(S // 2, S + 1, N, dtype=np.int64)}


INPUTS = {'x': _in_x, 'xg': _in_xg, 'prelu': _in_prelu, 'reg': _in_reg, 'pos': _in_pos,
          'prob': _in_prob, 'logit': _in_logit, 'pm1': _in_pm1, 'kl': _in_kl,
          'poisson': _in_poisson, 'ce': _in_ce, 'nll': _in_nll, 'cce': _in_cce, 'ctc': _in_ctc}


def make_inputs(spec, shape, dtype):
    """The input arrays (a dict) of `spec` (a Spec or a key of INPUTS) at `shape` (an int
    for elementwise kernels) and `dtype`; the same arrays on every run."""
    kind = spec if isinstance(spec, str) else spec.inputs
    key = f"{kind}/{shape}/{np.dtype(dtype).name}".encode()
    rng = np.random.default_rng(zlib.crc32(key))
    return INPUTS[kind](rng, shape, np.dtype(dtype))


def elements(spec, shape):
    if spec.kind == 'elementwise':
        return (shape // PRELU_CHANNELS) * PRELU_CHANNELS if spec.inputs == 'prelu' else shape
    if spec.kind == 'rowwise':
        return shape[0] * shape[1]
    T, N, C, _ = shape
    return T * N * C


def size_label(shape):
    if isinstance(shape, int):
        e = int(round(math.log10(shape))) if shape > 0 else 0
        return f"1e{e}" if shape >= 1000 and 10**e == shape else str(shape)
    if len(shape) == 4:
        return "T{}xN{}xC{}xS{}".format(*shape)
    return 'x'.join(map(str, shape))


# --------------------------------------------------------------------------- spec table

class Spec:
    """One benchmarked kernel.

    name: the fastloss function (also the name in fl.reference); kind: 'elementwise',
    'rowwise' or 'ctc'; inputs: key of INPUTS; args: input names passed positionally;
    kwargs: extra keywords; category: for the summary; torch(t, F, A, *tensors) -> tensor
    (or a scalar loss); torch_mode: 'call' (forward/op), 'autograd' (value, grad of the
    first tensor by autograd) or 'autograd_all' (grads of every float tensor but the
    last, which is grad_output); torch_composed: no fused torch function;
    scipy(special, *arrays); sklearn(loss_module, threads, *arrays) -> callable.
    """

    def __init__(self, name, kind, inputs, args, category, kwargs=None, torch=None,
                 torch_mode='call', torch_composed=False, scipy=None, sklearn=None):
        self.name, self.kind, self.inputs, self.args = name, kind, inputs, tuple(args)
        self.category, self.kwargs = category, dict(kwargs or {})
        self.torch, self.torch_mode, self.torch_composed = torch, torch_mode, torch_composed
        self.scipy, self.sklearn = scipy, sklearn

    def __repr__(self):
        return f"Spec({self.name!r})"


def _lsig_grad(t, F, A, x, g):
    return A.log_sigmoid_backward(g, x, A.log_sigmoid_forward(x)[1])


# name, torch forward, torch gradient (from x and grad_output), scipy forward
_ACTIVATIONS = (
    ('identity', lambda t, F, A, x: x.clone(), lambda t, F, A, x, g: g.clone(), None),
    ('sigmoid', lambda t, F, A, x: t.sigmoid(x),
     lambda t, F, A, x, g: A.sigmoid_backward(g, t.sigmoid(x)), lambda s, x: s.expit(x)),
    ('tanh', lambda t, F, A, x: t.tanh(x), lambda t, F, A, x, g: A.tanh_backward(g, t.tanh(x)),
     None),
    ('relu', lambda t, F, A, x: t.relu(x), lambda t, F, A, x, g: A.threshold_backward(g, x, 0),
     None),
    ('leaky_relu', lambda t, F, A, x: F.leaky_relu(x, 0.01),
     lambda t, F, A, x, g: A.leaky_relu_backward(g, x, 0.01, False), None),
    ('elu', lambda t, F, A, x: F.elu(x),
     lambda t, F, A, x, g: A.elu_backward(g, 1.0, 1, 1, False, x),
     None),
    ('softplus', lambda t, F, A, x: F.softplus(x),
     lambda t, F, A, x, g: A.softplus_backward(g, x, 1.0, 20.0), None),
    ('log_sigmoid', lambda t, F, A, x: F.logsigmoid(x), _lsig_grad, lambda s, x: s.log_expit(x)),
    ('gelu', lambda t, F, A, x: F.gelu(x), lambda t, F, A, x, g: A.gelu_backward(g, x), None),
    ('silu', lambda t, F, A, x: F.silu(x), lambda t, F, A, x, g: A.silu_backward(g, x), None),
)

_ALONG_AXIS = (
    ('softmax', lambda t, F, A, x: t.softmax(x, -1),
     lambda t, F, A, x, g: A._softmax_backward_data(g, t.softmax(x, -1), -1, x.dtype),
     lambda s, x: s.softmax(x, axis=-1)),
    ('log_softmax', lambda t, F, A, x: t.log_softmax(x, -1),
     lambda t, F, A, x, g: A._log_softmax_backward_data(g, t.log_softmax(x, -1), -1, x.dtype),
     lambda s, x: s.log_softmax(x, axis=-1)),
)


def _sk_loss(multinomial, mode):
    """scikit-learn's HalfBinomialLoss / HalfMultinomialLoss as a peer (value: the loss per
    sample; value_and_grad: loss_gradient).  sklearn takes class indices as floats."""
    def make(L, threads, x, t):
        if multinomial:
            loss, y = L.HalfMultinomialLoss(n_classes=x.shape[1]), t.astype(x.dtype)
        else:
            loss, y = L.HalfBinomialLoss(), t
        if mode == 'value':
            return partial(loss, y, x, n_threads=threads)

        def value_and_grad():
            lo, gr = loss.loss_gradient(y, x, n_threads=threads)
            return lo.mean(), gr
        return value_and_grad
    return make


_EPS = 1e-7
# name, kind, inputs, args, torch loss(t, F, *tensors) -> scalar, composed, sklearn factory maker
_LOSSES = (
    ('mse_loss', 'elementwise', 'reg', lambda t, F, i, y: F.mse_loss(i, y), False, None),
    ('l1_loss', 'elementwise', 'reg', lambda t, F, i, y: F.l1_loss(i, y), False, None),
    ('huber_loss', 'elementwise', 'reg', lambda t, F, i, y: F.huber_loss(i, y), False, None),
    ('smooth_l1_loss', 'elementwise', 'reg', lambda t, F, i, y: F.smooth_l1_loss(i, y), False,
     None),
    ('msle_loss', 'elementwise', 'pos',
     lambda t, F, i, y: (t.log1p(i.clamp(min=_EPS)) - t.log1p(y.clamp(min=_EPS))).square().mean(),
     True, None),
    ('mape_loss', 'elementwise', 'pos',
     lambda t, F, i, y: (100 * (y - i).abs() / y.abs().clamp(min=_EPS)).mean(), True, None),
    ('binary_cross_entropy', 'elementwise', 'prob',
     lambda t, F, i, y: F.binary_cross_entropy(i, y), False, None),
    ('binary_cross_entropy_with_logits', 'elementwise', 'logit',
     lambda t, F, i, y: F.binary_cross_entropy_with_logits(i, y), False,
     partial(_sk_loss, False)),
    ('hinge_loss', 'elementwise', 'pm1', lambda t, F, i, y: (1 - y * i).clamp(min=0).mean(),
     True, None),
    ('squared_hinge_loss', 'elementwise', 'pm1',
     lambda t, F, i, y: (1 - y * i).clamp(min=0).square().mean(), True, None),
    ('exponential_loss', 'elementwise', 'pm1', lambda t, F, i, y: t.exp(-y * i).mean(), True, None),
    ('kl_div', 'elementwise', 'kl', lambda t, F, i, y: F.kl_div(i, y, reduction='sum') / i.numel(),
     False, None),  # = reduction='mean', without torch's warning about 'mean'
    ('poisson_nll_loss', 'elementwise', 'poisson', lambda t, F, i, y: F.poisson_nll_loss(i, y),
     False, None),
    ('cross_entropy', 'rowwise', 'ce', lambda t, F, i, y: F.cross_entropy(i, y), False,
     partial(_sk_loss, True)),
    ('nll_loss', 'rowwise', 'nll', lambda t, F, i, y: F.nll_loss(i, y), False, None),
    ('categorical_cross_entropy', 'rowwise', 'cce',
     lambda t, F, i, y: -(y * i.clamp(_EPS, 1 - _EPS).log()).sum(-1).mean(), True, None),
    ('ctc_loss', 'ctc', 'ctc', lambda t, F, lp, tg, il, tl: F.ctc_loss(lp, tg, il, tl), False,
     None),
)


def _build_specs():
    specs = []
    for name, fwd, grad, sc in _ACTIVATIONS:
        specs.append(Spec(name, 'elementwise', 'x', ('x',), 'activation', torch=fwd, scipy=sc))
        specs.append(Spec(name + '_grad', 'elementwise', 'xg', ('x', 'g'), 'activation grad',
                          torch=grad))
    specs.append(Spec('prelu', 'elementwise', 'prelu', ('x', 'w'), 'activation',
                      torch=lambda t, F, A, x, w: F.prelu(x, w)))
    specs.append(Spec('prelu_grad', 'elementwise', 'prelu', ('x', 'w', 'g'), 'activation grad',
                      torch=lambda t, F, A, x, w: F.prelu(x, w), torch_mode='autograd_all'))
    for name, fwd, grad, sc in _ALONG_AXIS:
        specs.append(Spec(name, 'rowwise', 'xg', ('x',), 'softmax', torch=fwd, scipy=sc))
        specs.append(Spec(name + '_grad', 'rowwise', 'xg', ('x', 'g'), 'softmax', torch=grad))
    for name, kind, inputs, tfn, composed, sk in _LOSSES:
        args = ('log_probs', 'targets', 'input_lengths', 'target_lengths') if kind == 'ctc' \
            else ('input', 'target')
        for suffix, mode in (('', 'value'), ('_value_and_grad', 'value_and_grad')):
            specs.append(Spec(name + suffix, kind, inputs, args,
                              'loss' if mode == 'value' else 'loss value_and_grad',
                              torch=(lambda f: lambda t, F, A, *a: f(t, F, *a))(tfn),
                              torch_mode='call' if mode == 'value' else 'autograd',
                              torch_composed=composed, sklearn=sk(mode) if sk else None))
    return tuple(specs)


SPECS = _build_specs()


# --------------------------------------------------------------------------- peers

def _import_peers(peers=PEERS):
    """{impl: module or None}: fastloss, and the peers among `peers` that are installed
    (numpy = fastloss.reference)."""
    import importlib
    import fastloss
    mods = {'fastloss': fastloss, 'numpy': fastloss.reference if 'numpy' in peers else None}
    for peer, module in (('torch', 'torch'), ('scipy', 'scipy.special'),
                         ('sklearn', 'sklearn._loss.loss')):
        mods[peer] = None
        if peer in peers:
            try:
                mods[peer] = importlib.import_module(module)
            except ImportError:
                pass
    return mods


def available(spec, impl, mods):
    """Whether `impl` can run `spec` here (module installed, function present)."""
    m = mods.get(impl)
    if m is None:
        return False
    if impl in ('fastloss', 'numpy'):
        return callable(getattr(m, spec.name, None))
    return getattr(spec, impl) is not None


def _torch_callable(spec, a, mods):
    t = mods['torch']
    F, A = t.nn.functional, t.ops.aten
    ts = [t.from_numpy(a[k]) for k in spec.args]
    if spec.torch_mode == 'call':
        return partial(spec.torch, t, F, A, *ts)
    if spec.torch_mode == 'autograd':  # (value, grad of the first tensor)
        x = ts[0].detach().requires_grad_(True)
        rest = ts[1:]

        def value_and_grad():
            v = spec.torch(t, F, A, x, *rest)
            return v, t.autograd.grad(v, x)[0]
        return value_and_grad
    # autograd_all: every tensor but the last (grad_output) is a leaf needing its grad
    leaves = [z.detach().requires_grad_(True) for z in ts[:-1]]
    g = ts[-1]

    def grads():
        return t.autograd.grad(spec.torch(t, F, A, *leaves), leaves, g)
    return grads


def make_callables(spec, a, threads, mods, impls=IMPLS):
    """{impl: zero-argument callable} for the available implementations of `spec` on the
    inputs `a` (from make_inputs); `threads` is used by scikit-learn's n_threads (fastloss
    and torch take theirs from the caller's thread settings)."""
    calls = {}
    for impl in impls:
        if not available(spec, impl, mods):
            continue
        if impl in ('fastloss', 'numpy'):
            calls[impl] = partial(getattr(mods[impl], spec.name), *[a[k] for k in spec.args],
                                  **spec.kwargs)
        elif impl == 'torch':
            calls[impl] = _torch_callable(spec, a, mods)
        elif impl == 'scipy':
            calls[impl] = partial(spec.scipy, mods['scipy'], *[a[k] for k in spec.args])
        elif impl == 'sklearn':
            calls[impl] = spec.sklearn(mods['sklearn'], threads, *[a[k] for k in spec.args])
    return calls


def shapes_for(spec, elementwise=ELEMENTWISE_SIZES, rowwise=ROWWISE_SHAPES, ctc=CTC_SHAPES):
    return {'elementwise': elementwise, 'rowwise': rowwise, 'ctc': ctc}[spec.kind]


def select(specs, only):
    """The specs whose name matches any of the regexes/substrings in `only` (all if empty)."""
    if not only:
        return list(specs)
    pats = [re.compile(p) for p in only]
    return [s for s in specs if any(p.search(s.name) for p in pats)]


def cases(only=(), elementwise=ELEMENTWISE_SIZES, rowwise=ROWWISE_SHAPES, ctc=CTC_SHAPES,
          dtypes=('float32', 'float64'), mods=None):
    """(spec, shape, dtype) for every kernel fastloss has, in benchmark order."""
    mods = mods or _import_peers()
    out = []
    for spec in select(SPECS, only):
        if not available(spec, 'fastloss', mods):
            continue
        for shape in shapes_for(spec, elementwise, rowwise, ctc):
            for dt in dtypes:
                out.append((spec, shape, dt))
    return out


# --------------------------------------------------------------------------- timing

def _sample(f, number):
    t0 = time.perf_counter()
    for _ in repeat(None, number):
        f()
    return (time.perf_counter() - t0) / number


def _warmup(f):
    """Call f until warm and return an estimate of one call (seconds).  Calls of 1 ms or
    more get one warm-up call: smaller sizes of the same kernel ran before them."""
    t = _sample(f, 1)
    if t < 1e-3:
        t = _sample(f, 1)
        t = _sample(f, max(1, min(10000, int(1e-3 / max(t, 1e-8)))))
    return t


class Timer:
    """Interleaved, budgeted timing of the implementations of one row.

    Each implementation is warmed up and its call time estimated; a sample is `number`
    back-to-back calls (about `sample` seconds); rounds of one sample per implementation,
    in a fixed order, are repeated `reps` times (from `budget`, between min_reps and
    max_reps; 2 for rows where min_reps rounds would cost over 4 budgets) and the median
    per-call time kept.  Implementations in `slow` (the NumPy
    reference) get `ref_budget`; peers more than 3x slower than fastloss whose samples
    take over 10 ms ("lagging": their speed-up needs no more precision) get half the
    budget; both at least 1 sample, at most `reps`.  Where such a call takes over
    `single_call` seconds (50 ms) and the budget allows only one sample, its warm-up call
    (which ran after all smaller sizes of the kernel) is that sample (reps 0 in the JSON
    and 'from_warmup': true).  Where fastloss and its fastest peer come within `close`
    (10%) of each other, the two get `close_rounds` (2) times as many rounds again,
    interleaved as before, and their medians are taken over all their samples: at parity
    the faster/slower verdict would otherwise be decided by the noise of a few samples
    ('retimed': true in the JSON).
    """

    def __init__(self, budget=0.06, ref_budget=0.03, sample=2e-4, min_reps=3, max_reps=25,
                 single_call=0.05, close=0.1, close_rounds=2):
        self.budget, self.ref_budget, self.sample = budget, ref_budget, sample
        self.min_reps, self.max_reps, self.single_call = min_reps, max_reps, single_call
        self.close, self.close_rounds = close, close_rounds

    def measure(self, calls, slow=('numpy',)):
        """{impl: {'s': median seconds per call, 'reps', 'number'} or {'error': msg}}."""
        res, est = {}, {}
        for k, f in calls.items():
            try:
                est[k] = _warmup(f)
            except Exception as e:  # noqa: BLE001 -- a broken peer must not stop the run
                res[k] = {'error': f"{type(e).__name__}: {e}"[:300]}
        live = [k for k in calls if k in est]
        number = {k: max(1, int(round(self.sample / max(est[k], 1e-9)))) for k in live}
        cost = {k: number[k] * est[k] for k in live}
        base = est.get('fastloss', min(est.values(), default=0.0))
        lagging = {k for k in live if k not in slow and k != 'fastloss'
                   and est[k] > 3 * base and cost[k] > 0.01}
        main = [k for k in live if k not in slow and k not in lagging] or live
        per_round = max(sum(cost[k] for k in main), 1e-9)
        # heavy rows (the floor alone would be > 4 budgets: 1e7 elements) get 2 rounds
        floor = min(self.min_reps, 2) if self.min_reps * per_round > 4 * self.budget \
            else self.min_reps
        reps = int(min(self.max_reps, max(floor, self.budget / per_round)))
        nrep = {k: reps for k in main}
        samples = {k: [] for k in live}
        from_warmup = set()
        for k in live:
            if k not in nrep:
                budget = self.ref_budget if k in slow else self.budget / 2
                nrep[k] = int(min(reps, max(1, budget / cost[k])))
                if est[k] > self.single_call and budget / cost[k] < 1.5:
                    nrep[k] = 0
                    samples[k].append(est[k])
                    from_warmup.add(k)
        gc_on = gc.isenabled()
        gc.disable()
        try:
            self._rounds(calls, live, nrep, number, samples)
            pair = self._close_pair(samples, main, slow)
            if pair:
                more = {k: self.close_rounds * nrep[k] for k in pair}
                self._rounds(calls, pair, more, number, samples)
                for k in pair:
                    nrep[k] += more[k]
        finally:
            if gc_on:
                gc.enable()
        for k in live:
            res[k] = {'s': float(np.median(samples[k])), 'reps': nrep[k], 'number': number[k]}
            if k in from_warmup:
                res[k]['from_warmup'] = True
            if pair and k in pair:
                res[k]['retimed'] = True
        return res

    @staticmethod
    def _rounds(calls, impls, nrep, number, samples):
        """Rounds of one sample per implementation, in a fixed order."""
        for r in range(max((nrep[k] for k in impls), default=0)):
            for k in impls:
                if r < nrep[k]:
                    samples[k].append(_sample(calls[k], number[k]))

    def _close_pair(self, samples, main, slow):
        """(fastloss, its fastest peer) when their medians are within `close`, else None."""
        if not self.close_rounds or 'fastloss' not in main:
            return None
        peers = [k for k in main if k != 'fastloss' and k not in slow and samples[k]]
        if not peers or not samples['fastloss']:
            return None
        best = min(peers, key=lambda k: np.median(samples[k]))
        ratio = np.median(samples[best]) / np.median(samples['fastloss'])
        return ('fastloss', best) if abs(ratio - 1.0) < self.close else None


# --------------------------------------------------------------------------- machine

def machine_info(mods):
    info = {'platform': platform.platform(), 'python': platform.python_version(),
            'numpy': np.__version__, 'cpu_count': os.cpu_count()}
    try:
        info['affinity'] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    try:
        with open('/proc/cpuinfo') as f:
            text = f.read()
        m = re.search(r'^model name\s*:\s*(.*)$', text, re.M)
        info['cpu'] = m.group(1).strip() if m else platform.processor()
        fl = re.search(r'^flags\s*:\s*(.*)$', text, re.M)
        if fl:
            flags = set(fl.group(1).split())
            info['simd_flags'] = [f for f in ('sse4_2', 'avx', 'avx2', 'fma', 'avx512f',
                                              'avx512bw', 'avx512vl') if f in flags]
    except OSError:
        info['cpu'] = platform.processor()
    for name in ('torch', 'scipy'):
        m = mods.get(name)
        if m is not None:
            info[name] = getattr(sys.modules.get(name), '__version__', '?')
    if mods.get('sklearn') is not None:
        info['sklearn'] = getattr(sys.modules.get('sklearn'), '__version__', '?')
    info['env'] = {k: v for k, v in os.environ.items()
                   if k.startswith(('OMP_', 'GOMP_', 'MKL_', 'OPENBLAS_', 'FASTLOSS_'))}
    try:
        from ._config import build_info
        info['fastloss_build'] = build_info()
    except Exception as e:  # noqa: BLE001
        info['fastloss_build'] = {'error': str(e)}
    import fastloss
    info['fastloss'] = fastloss.__version__
    return info


def measure_bandwidth(mods, threads_list, only):
    """Copy bandwidth of np.copyto on 1e7 float32 and the fraction of it reached by relu,
    leaky_relu (out=) and mse_loss (value); bytes = bytes read + bytes written."""
    fl = mods['fastloss']
    n = 10**7
    rng = np.random.default_rng(7)
    x = rng.standard_normal(n, dtype=np.float32)
    y = rng.standard_normal(n, dtype=np.float32)
    o = np.empty_like(x)
    t = Timer(budget=0.3, min_reps=7, max_reps=15, sample=1e-9).measure(
        {'copy': partial(np.copyto, o, x)})['copy']['s']
    copy_bw = 2 * x.nbytes / t
    out = {'copy_GBps': copy_bw / 1e9, 'copy_s': t, 'n': n, 'dtype': 'float32', 'kernels': []}
    checks = [('relu', 'relu(x, out=o)', lambda: partial(fl.relu, x, out=o), 2 * x.nbytes),
              ('leaky_relu', 'leaky_relu(x, out=o)', lambda: partial(fl.leaky_relu, x, out=o),
               2 * x.nbytes),
              ('mse_loss', 'mse_loss(x, y)', lambda: partial(fl.mse_loss, x, y), 2 * x.nbytes)]
    for name, what, make, nbytes in checks:
        if not callable(getattr(fl, name, None)) or (
                only and not any(re.search(p, name) for p in only)):
            continue
        for th in threads_list:
            with fl.num_threads(th):
                r = Timer(budget=0.3, min_reps=7, max_reps=15, sample=1e-9).measure({'f': make()})
            if 'error' in r['f']:
                continue
            bw = nbytes / r['f']['s']
            out['kernels'].append({'kernel': name, 'call': what, 'threads': th,
                                   's': r['f']['s'], 'GBps': bw / 1e9, 'fraction': bw / copy_bw})
    return out


# --------------------------------------------------------------------------- running

class Progress:
    def __init__(self, total, stream=sys.stderr, enabled=True):
        self.total, self.done, self.stream = max(total, 1), 0, stream
        self.enabled = enabled
        self.tty = enabled and hasattr(stream, 'isatty') and stream.isatty()
        self.t0 = time.perf_counter()
        self.last_pct = -1

    def update(self, label):
        self.done += 1
        if not self.enabled:
            return
        frac = self.done / self.total
        el = time.perf_counter() - self.t0
        eta = el / frac - el if frac > 0 else 0
        width = 30
        bar = '#' * int(width * frac) + '.' * (width - int(width * frac))
        line = (f"[{bar}] {self.done}/{self.total} {100 * frac:3.0f}% "
                f"{el:5.0f}s eta {eta:4.0f}s  {label}")
        if self.tty:
            self.stream.write('\r' + line[:110].ljust(110))
            self.stream.flush()
        elif int(100 * frac) // 10 != self.last_pct:
            self.last_pct = int(100 * frac) // 10
            self.stream.write(line + '\n')
            self.stream.flush()

    def close(self):
        if self.enabled and self.tty:
            self.stream.write('\n')
            self.stream.flush()


class _InputCache:
    """The last few input sets (keyed by input kind, shape, dtype): big arrays are costly
    to make, and kernels that share inputs are adjacent in the benchmark order."""

    def __init__(self, keep=3):
        self.keep, self.items = keep, {}

    def get(self, spec, shape, dtype):
        key = (spec.inputs, shape, dtype)
        if key not in self.items:
            while len(self.items) >= self.keep:
                self.items.pop(next(iter(self.items)))
            self.items[key] = make_inputs(spec, shape, dtype)
        return self.items[key]


def _ordered_cases(cs):
    """Size-major order (small inputs first) so that the reference's ns/element is known
    from a smaller size before a big one; specs sharing inputs stay adjacent."""
    rank = {s.name: i for i, s in enumerate(SPECS)}
    kind_rank = {'elementwise': 0, 'rowwise': 1, 'ctc': 2}
    sizes = {}
    for spec, shape, _ in cs:
        sizes.setdefault(spec.kind, [])
        if shape not in sizes[spec.kind]:
            sizes[spec.kind].append(shape)
    return sorted(cs, key=lambda c: (kind_rank[c[0].kind], sizes[c[0].kind].index(c[1]),
                                     c[2], rank[c[0].name]))


def run_benchmark(args, mods):
    fl = mods['fastloss']
    torch = mods['torch']
    peers = [p for p in PEERS if p in args.peers]
    impls = ['fastloss'] + peers
    cs = _ordered_cases(cases(args.only, args.sizes, args.shapes, CTC_SHAPES, args.dtypes, mods))
    threads_list = args.threads_list
    timer = Timer(budget=args.budget, ref_budget=args.ref_budget, min_reps=args.min_reps,
                  max_reps=args.max_reps)
    cache = _InputCache()
    ref_rate = {}  # (spec name, dtype) -> seconds per element of the reference
    rows = []
    prog = Progress(len(cs) * len(threads_list), enabled=not args.no_progress)
    torch_threads0 = torch.get_num_threads() if torch is not None else None
    t_start = time.perf_counter()
    args.hurried_from_row = None
    try:
        for spec, shape, dt in cs:
            if (args.max_time and args.hurried_from_row is None
                    and time.perf_counter() - t_start > 0.8 * args.max_time):
                # behind schedule (a busy machine): fewest samples from here on
                args.hurried_from_row = len(rows)
                timer.min_reps, timer.budget, timer.ref_budget = 1, 0.005, 0.0
            a = cache.get(spec, shape, dt)
            nel = elements(spec, shape)
            reused = {}
            for ti, th in enumerate(threads_list):
                calls = make_callables(spec, a, th, mods, impls)
                for k in SINGLE_THREADED:
                    if ti > 0 and k in reused:
                        calls.pop(k, None)
                skipped = {}
                if 'numpy' in calls:
                    rate = ref_rate.get((spec.name, dt))
                    if rate is not None and rate * nel > args.ref_limit:
                        del calls['numpy']
                        skipped['numpy'] = f"skipped: ~{rate * nel:.2g} s/call predicted"
                    elif rate is None and nel > REF_UNKNOWN_MAX:
                        del calls['numpy']
                        skipped['numpy'] = 'skipped: size (no smaller size timed)'
                if torch is not None:
                    torch.set_num_threads(th)
                with fl.num_threads(th):
                    res = timer.measure(calls)
                for k in SINGLE_THREADED:
                    if ti == 0 and k in res:
                        reused[k] = dict(res[k])
                    elif ti > 0 and k in reused:
                        res[k] = dict(reused[k], reused=True)
                if 'numpy' in res and 's' in res['numpy']:
                    ref_rate[(spec.name, dt)] = res['numpy']['s'] / nel
                for k, why in skipped.items():
                    res[k] = {'skipped': why}
                rows.append(_row(spec, shape, dt, th, nel, res))
                prog.update(f"{spec.name} {size_label(shape)} {dt} t={th}")
    finally:
        prog.close()
        if torch is not None:
            torch.set_num_threads(torch_threads0)
    return rows


def sort_rows(rows):
    """Kernel-major order (as in SPECS), then size, dtype, threads (rows are timed
    size-major)."""
    rank = {s.name: i for i, s in enumerate(SPECS)}
    return sorted(rows, key=lambda r: (rank.get(r['kernel'], 1e9), r['elements'], r['dtype'],
                                       r['threads']))


def _row(spec, shape, dt, th, nel, res):
    row = {'kernel': spec.name, 'category': spec.category, 'kind': spec.kind,
           'shape': list(shape) if not isinstance(shape, int) else [shape],
           'size': size_label(shape), 'elements': nel, 'dtype': dt, 'threads': th,
           'times': res, 'torch_composed': bool(spec.torch_composed)}
    f = res.get('fastloss', {})
    row['fastloss_s'] = f.get('s')
    row['ns_per_element'] = f['s'] / nel * 1e9 if 's' in f else None
    sp = {}
    for p in PEERS:
        if 's' in res.get(p, {}) and 's' in f:
            sp[p] = res[p]['s'] / f['s']
    row['speedup'] = sp
    if sp:
        best = min(sp, key=sp.get)
        row['best_peer'], row['speedup_best'] = best, sp[best]
    else:
        row['best_peer'] = row['speedup_best'] = None
    return row


# --------------------------------------------------------------------------- report

def fmt_time(s):
    if s is None:
        return '-'
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.3g} us"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def _fmt_speed(row, p):
    r = row['times'].get(p)
    if r is None:
        return '-'
    if 'skipped' in r:
        return 'skip'
    if 'error' in r:
        return 'err'
    x = row['speedup'].get(p)
    if x is None:
        return 'ERR'
    s = f"{x:.3g}x" if x < 100 else f"{x:.0f}x"
    if p == 'torch' and row['torch_composed']:
        s += '*'
    if 'reused' in r:
        s += "'"
    return s


def _geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float('nan')


def summarize(rows):
    with_peer = [r for r in rows if r['speedup_best'] is not None]
    by = {}
    for r in with_peer:
        by.setdefault(('threads', r['threads']), []).append(r['speedup_best'])
        by.setdefault(('dtype', r['dtype']), []).append(r['speedup_best'])
        by.setdefault(('category', r['category']), []).append(r['speedup_best'])
    per_peer = {}
    for p in PEERS:
        xs = [r['speedup'][p] for r in rows if p in r['speedup']]
        if xs:
            per_peer[p] = {'geomean': _geomean(xs), 'rows': len(xs),
                           'slower': sum(x < 1 for x in xs)}
    slower = sorted((r for r in with_peer if r['speedup_best'] < 1),
                    key=lambda r: r['speedup_best'])

    def overhead(kernel, size, dtype='float32'):
        for r in rows:
            if r['kernel'] == kernel and r['size'] == size and r['dtype'] == dtype \
                    and r['threads'] == 1:
                t = r['times'].get('torch', {})
                return {'kernel': kernel, 'size': size, 'dtype': dtype,
                        'fastloss_us': r['fastloss_s'] * 1e6 if r['fastloss_s'] else None,
                        'torch_us': t['s'] * 1e6 if 's' in t else None}
        return None
    ovh = [o for o in (overhead('sigmoid', '64'), overhead('mse_loss', '64'),
                       overhead('cross_entropy', '64x10')) if o]
    return {'rows': len(rows), 'rows_with_peer': len(with_peer),
            'geomean_speedup_best_peer': _geomean([r['speedup_best'] for r in with_peer]),
            'geomean_by': {f"{k[0]}={k[1]}": _geomean(v) for k, v in sorted(
                by.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))},
            'per_peer': per_peer,
            'slower_than_best_peer': len(slower),
            'slower_rows': [{'kernel': r['kernel'], 'size': r['size'], 'dtype': r['dtype'],
                             'threads': r['threads'], 'best_peer': r['best_peer'],
                             'speedup': r['speedup_best']} for r in slower],
            'call_overhead': ovh}


def print_table(rows, file=sys.stdout):
    peers = [p for p in PEERS if any(p in r['times'] for r in rows)]
    head = ['kernel', 'size', 'dtype', 'thr', 'fastloss', 'ns/el'] + [f"x{p}" for p in peers]
    body = []
    for r in rows:
        body.append([r['kernel'], r['size'], r['dtype'].replace('float', 'f'), str(r['threads']),
                     fmt_time(r['fastloss_s']),
                     f"{r['ns_per_element']:.3g}" if r['ns_per_element'] is not None else '-']
                    + [_fmt_speed(r, p) for p in peers])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(head)]
    left = 4

    def line(cells):
        return '  '.join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(head), file=file)
    print('  '.join('-' * w for w in widths), file=file)
    prev = None
    for r, b in zip(rows, body):
        if prev is not None and r['kernel'] != prev:
            print(file=file)
        print(line(b), file=file)
        prev = r['kernel']
    print("speed-up = peer time / fastloss time (>1: fastloss faster); median of interleaved "
          "samples.", file=file)
    print("torch* = composed from torch ops (no fused PyTorch function); ' = single-threaded "
          "peer timed at the first thread setting and reused; skip = NumPy reference skipped "
          "(too slow at this size); err = the peer raised.  Peers >3x slower than fastloss get "
          "few samples (one call when a call takes > 50 ms).", file=file)


def print_summary(s, bw, file=sys.stdout):
    print(file=file)
    print("Summary", file=file)
    print(f"  rows: {s['rows']}, with a peer: {s['rows_with_peer']}", file=file)
    print(f"  geometric mean speed-up over the best peer: "
          f"{s['geomean_speedup_best_peer']:.3g}x", file=file)
    for k, v in s['geomean_by'].items():
        print(f"    {k:<32} {v:.3g}x", file=file)
    for p, d in s['per_peer'].items():
        print(f"  vs {p:<8}: geomean {d['geomean']:.3g}x over {d['rows']} rows, "
              f"fastloss slower in {d['slower']}", file=file)
    print(f"  rows where fastloss is slower than the best peer: {s['slower_than_best_peer']}",
          file=file)
    for r in s['slower_rows'][:20]:
        print(f"    {r['kernel']} {r['size']} {r['dtype']} t={r['threads']}: "
              f"{r['speedup']:.2f}x vs {r['best_peer']}", file=file)
    if len(s['slower_rows']) > 20:
        print(f"    ... and {len(s['slower_rows']) - 20} more (see --json)", file=file)
    if s['call_overhead']:
        print("  call overhead (1 thread, float32):", file=file)
        for o in s['call_overhead']:
            tt = f"{o['torch_us']:.2f} us" if o['torch_us'] is not None else '-'
            fu = f"{o['fastloss_us']:.2f} us" if o['fastloss_us'] is not None else '-'
            print(f"    {o['kernel']:<14} {o['size']:<6} fastloss {fu:>10}   torch {tt:>10}",
                  file=file)
    if bw:
        print(f"  memory copy bandwidth (np.copyto, 1e7 float32, read+write): "
              f"{bw['copy_GBps']:.1f} GB/s", file=file)
        for k in bw['kernels']:
            print(f"    {k['call']:<22} t={k['threads']}: {fmt_time(k['s']):>9}  "
                  f"{k['GBps']:5.1f} GB/s = {100 * k['fraction']:.0f}% of copy", file=file)


def plot(rows, path, file=sys.stdout):
    """A heat map per dtype x threads: kernels down, sizes across, colour and number =
    speed-up of fastloss over the best peer."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print("--plot: matplotlib is not installed (pip install matplotlib); no plot written.",
              file=file)
        return False
    kernels = list(dict.fromkeys(r['kernel'] for r in rows))
    sizes = list(dict.fromkeys(r['size'] for r in rows))
    panels = sorted({(r['dtype'], r['threads']) for r in rows})
    fig, axes = plt.subplots(1, len(panels), squeeze=False, sharey=True,
                             figsize=(2.5 + 0.45 * len(sizes) * len(panels),
                                      1.5 + 0.19 * len(kernels)))
    norm = matplotlib.colors.TwoSlopeNorm(vmin=-1.5, vcenter=0, vmax=1.5)
    im = None
    for ax, (dt, th) in zip(axes.flat, panels):
        z = np.full((len(kernels), len(sizes)), np.nan)
        for r in rows:
            if r['dtype'] == dt and r['threads'] == th and r['speedup_best']:
                i, j = kernels.index(r['kernel']), sizes.index(r['size'])
                z[i, j] = math.log10(r['speedup_best'])
        im = ax.imshow(z, cmap='RdYlGn', norm=norm, aspect='auto', interpolation='nearest')
        for i in range(len(kernels)):
            for j in range(len(sizes)):
                if not np.isnan(z[i, j]):
                    v = 10 ** z[i, j]
                    ax.text(j, i, f"{v:.2g}" if v < 10 else f"{v:.0f}", ha='center',
                            va='center', fontsize=5.5)
        ax.set_xticks(range(len(sizes)), sizes, rotation=60, ha='right', fontsize=7)
        ax.set_title(f"{dt}, {th} thread{'s' if th > 1 else ''}", fontsize=9)
    axes[0, 0].set_yticks(range(len(kernels)), kernels, fontsize=7)
    if im is not None:
        cb = fig.colorbar(im, ax=axes, shrink=0.4, pad=0.01)
        cb.set_label('log10(peer time / fastloss time), best peer')
    fig.suptitle('fastloss speed-up over the best peer (>1 = fastloss faster)', fontsize=11)
    fig.savefig(path, dpi=110, bbox_inches='tight')
    plt.close(fig)
    print(f"plot written to {path}", file=file)
    return True


# --------------------------------------------------------------------------- CLI

def _parse_size(s):
    return int(float(s))


def add_arguments(p):
    p.add_argument('--quick', action='store_true',
                   help='few sizes (1e3, 1e6; 64x10, 4096x1000), float32, all threads, '
                        'tiny budget: well under 30 s')
    p.add_argument('--only', action='append', default=[], metavar='NAME',
                   help='only kernels whose name matches this regex/substring (may repeat)')
    p.add_argument('--threads', default=None,
                   help="'both' (1 and all; default), '1', 'all', or a comma list like 1,2")
    p.add_argument('--dtype', default=None, choices=('float32', 'float64', 'both'),
                   help='default: both (float32 with --quick)')
    p.add_argument('--sizes', default=None,
                   help='elementwise sizes, comma separated (e.g. 1e3,1e6)')
    p.add_argument('--peers', default=','.join(PEERS),
                   help=f"comma list of peers to time (default {','.join(PEERS)})")
    p.add_argument('--budget', type=float, default=None,
                   help='seconds of timing per row, all implementations together '
                        '(default 0.03; 0.008 with --quick)')
    p.add_argument('--ref-limit', type=float, default=None,
                   help='skip the NumPy reference where a call is predicted to take longer '
                        '(seconds; default 0.06, 0.02 with --quick)')
    p.add_argument('--max-time', type=float, default=None,
                   help='seconds: past 80%% of this, time the remaining rows with the fewest '
                        'samples (default 165; 25 with --quick; 0 = never)')
    p.add_argument('--json', metavar='FILE', help='write the rows, summary and machine info')
    p.add_argument('--plot', metavar='FILE', help='write a PNG heat map (needs matplotlib)')
    p.add_argument('--no-bandwidth', action='store_true', help='skip the bandwidth check')
    p.add_argument('--no-progress', action='store_true', help='no progress bar on stderr')
    return p


def _resolve(args, all_threads):
    quick = args.quick
    if args.threads in (None, ''):
        args.threads = 'all' if quick else 'both'
    if args.threads == 'both':
        tl = [1, all_threads]
    elif args.threads == 'all':
        tl = [all_threads]
    else:
        try:
            tl = [int(t) for t in str(args.threads).split(',')]
        except ValueError:
            raise SystemExit(f"--threads: expected both, all, or integers, got {args.threads!r}")
        if any(t < 1 for t in tl):
            raise SystemExit("--threads: thread counts must be >= 1")
    args.threads_list = list(dict.fromkeys(tl))
    dt = args.dtype or ('float32' if quick else 'both')
    args.dtypes = ('float32', 'float64') if dt == 'both' else (dt,)
    if args.sizes:
        args.sizes = tuple(_parse_size(s) for s in args.sizes.split(','))
    else:
        args.sizes = QUICK_ELEMENTWISE if quick else ELEMENTWISE_SIZES
    args.shapes = QUICK_ROWWISE if quick else ROWWISE_SHAPES
    args.peers = tuple(p.strip() for p in args.peers.split(',') if p.strip())
    bad = set(args.peers) - set(PEERS)
    if bad:
        raise SystemExit(f"--peers: unknown {sorted(bad)}; choose from {PEERS}")
    args.budget = args.budget if args.budget is not None else (0.008 if quick else 0.03)
    args.ref_budget = args.budget / 2
    args.ref_limit = args.ref_limit if args.ref_limit is not None else (0.02 if quick else 0.06)
    if args.max_time is None:
        args.max_time = 25.0 if quick else 165.0
    args.min_reps = 1 if quick else 3
    args.max_reps = 7 if quick else 25
    for pat in args.only:
        try:
            re.compile(pat)
        except re.error as e:
            raise SystemExit(f"--only {pat!r}: not a valid regex ({e})")
    return args


def run(args):
    t0 = time.perf_counter()
    from . import get_num_threads
    args = _resolve(args, get_num_threads())
    mods = _import_peers(args.peers)
    missing = [p for p in args.peers if mods.get(p) is None]
    info = machine_info(mods)
    print(f"fastloss {info['fastloss']} on {info.get('cpu', '?')}, {info['cpu_count']} cores; "
          f"SIMD {info['fastloss_build'].get('simd', '?')}, "
          f"OpenMP {'on' if info['fastloss_build'].get('openmp') else 'off'}; "
          f"threads {args.threads_list}; dtypes {', '.join(args.dtypes)}", flush=True)
    if missing:
        print(f"peers not installed (skipped): {', '.join(missing)}", flush=True)
    bw = None
    if not args.no_bandwidth:
        bw = measure_bandwidth(mods, args.threads_list, args.only)
    rows = sort_rows(run_benchmark(args, mods))
    if not rows:
        print("no kernel matched (check --only); nothing timed.")
        return 1
    print_table(rows)
    s = summarize(rows)
    print_summary(s, bw)
    if args.hurried_from_row is not None:
        print(f"  note: the run fell behind --max-time {args.max_time:g} s (busy machine?); "
              f"rows timed after the first {args.hurried_from_row} got the fewest samples.")
    errors = sorted({(r['kernel'], p, v['error']) for r in rows for p, v in r['times'].items()
                     if 'error' in v})
    if errors:
        print(f"  {len(errors)} implementation errors (peer columns 'err'):")
        for k, p, e in errors[:10]:
            print(f"    {k} [{p}]: {e}")
    elapsed = time.perf_counter() - t0
    print(f"  total time: {elapsed:.1f} s")
    if args.json:
        doc = {'machine': info,
               'config': {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items()
                          if k not in ('func',)},
               'bandwidth': bw, 'rows': rows, 'summary': s, 'elapsed_s': elapsed}
        with open(args.json, 'w') as f:
            json.dump(doc, f, indent=1, default=str)
        print(f"JSON written to {args.json}")
    if args.plot:
        plot(rows, args.plot)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog='python -m fastloss bench', description=__doc__.split('\n')[0])
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
