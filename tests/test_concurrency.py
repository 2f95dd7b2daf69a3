"""Issue 5, concurrency and processes: the GIL is released in the kernels, 8 Python threads
give exactly the serial results, os.fork() after a parallel call does not hang the child,
and fastloss lives next to PyTorch / scikit-learn and obeys threadpoolctl."""
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import fastloss as fl
from fastloss import diagnostics as D
from _cases import ALL, make

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _jobs():
    """(label, thunk) pairs covering every kernel module, each large enough to go parallel
    and to release the GIL."""
    rng = np.random.default_rng(0)
    jobs = []
    for name in ALL:
        args, kw = make(name, rng, np.float32 if len(jobs) % 2 else np.float64,
                        n=40_000 if name != 'ctc_loss' else 64)
        for red in ('mean', 'none'):
            jobs.append((f'{name} {red}', lambda f=getattr(fl, name + '_value_and_grad'), a=args,
                         k=kw, r=red: f(*a, **k, reduction=r)))
    x = rng.standard_normal((300, 400)).astype(np.float32)
    jobs += [('sigmoid', lambda: fl.sigmoid(x)), ('gelu_grad', lambda: fl.gelu_grad(x)),
             ('log_softmax', lambda: fl.log_softmax(x, axis=0)),
             ('prelu_grad', lambda: fl.prelu_grad(x, np.full(400, 0.2, np.float32))),
             ('saturated', lambda: D.saturated_fraction(x)),
             ('norms', lambda: D.gradient_norms([x, 2 * x]).l2)]
    return jobs


def _same(a, b):
    if isinstance(a, tuple):
        return all(_same(u, v) for u, v in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def test_eight_threads_give_the_serial_results():
    jobs = _jobs()
    serial = [f() for _, f in jobs]
    errors = []
    barrier = threading.Barrier(8)

    def worker(k):
        barrier.wait()
        for rep in range(3):
            for i in range(len(jobs)):
                j = (i + 3 * k + rep) % len(jobs)             # threads interleave kernels
                label, f = jobs[j]
                if not _same(f(), serial[j]):
                    errors.append((k, label))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors[:10]


@pytest.mark.parametrize('label', ['mse_loss', 'cross_entropy', 'ctc_loss', 'sigmoid',
                                   'saturated_fraction'])
def test_kernels_release_the_gil(label):
    """A pure-Python counter thread keeps running while the main thread is inside a long
    kernel call.  With the GIL held it would advance at most one switch interval's worth."""
    rng = np.random.default_rng(1)
    if label == 'mse_loss':
        a, b = rng.standard_normal((2, 4_000_000))
        call = lambda: fl.mse_loss_grad(a, b)
    elif label == 'cross_entropy':
        a, t = rng.standard_normal((200_000, 20)), rng.integers(0, 20, 200_000)
        call = lambda: fl.cross_entropy_value_and_grad(a, t)
    elif label == 'ctc_loss':
        (lp, tg, il, tl), _ = make('ctc_loss', rng, n=4)
        lp = np.repeat(lp, 2000, axis=0)
        il[:] = lp.shape[0]
        call = lambda: fl.ctc_loss_value_and_grad(lp, tg, il, tl)
    elif label == 'sigmoid':
        a = rng.standard_normal(8_000_000)
        call = lambda: fl.tanh_grad(a)
    else:
        a = rng.standard_normal(20_000_000)
        call = lambda: D.saturated_fraction(a)
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.05)            # a GIL-holding call would block the counter 50 ms+
    stop = False
    count = [0]

    def counter():
        while not stop:
            count[0] += 1

    th = threading.Thread(target=counter)
    try:
        with fl.num_threads(1):
            call()
            th.start()
            time.sleep(0.02)
            best = 0.0
            for _ in range(3):
                c0, t0 = count[0], time.perf_counter()
                call()
                c1, t1 = count[0], time.perf_counter()
                best = max(best, (c1 - c0) / (t1 - t0))
            c0, t0 = count[0], time.perf_counter()
            time.sleep(0.05)
            alone = (count[0] - c0) / (time.perf_counter() - t0)
    finally:
        stop = True
        th.join()
        sys.setswitchinterval(old)
    # GIL released: the counter runs at a good share of its free rate during the call.
    assert best > 0.2 * alone, f"counter rate during the call {best:.3g}/s vs alone {alone:.3g}/s"


FORK_CHILD = """
import os, signal, sys, numpy as np, fastloss as fl
x = np.random.default_rng(0).standard_normal(2_000_000)
t = np.zeros_like(x)
assert fl.get_num_threads() >= 1
parent = fl.sigmoid(x).sum(), fl.mse_loss(x, t), fl.cross_entropy(x.reshape(-1, 8), np.zeros(250_000, int))
pid = os.fork()
if pid == 0:
    signal.alarm(60)
    try:
        child = fl.sigmoid(x).sum(), fl.mse_loss(x, t), fl.cross_entropy(x.reshape(-1, 8), np.zeros(250_000, int))
        ok = child == parent and fl.get_num_threads() == 1
    finally:
        os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
print('child status', status)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork')
def test_fork_after_parallel_call_does_not_hang():
    """Parent: parallel calls (>= 1e6 elements, libgomp's pool is running); child after
    fork: calls of parallel size run (serially) and give the parent's results.  Run in a
    subprocess with a timeout, so a hang fails instead of hanging the suite."""
    if fl.get_num_threads() < 2:
        pytest.skip('needs >= 2 OpenMP threads for a parallel call')
    r = subprocess.run([sys.executable, '-c', FORK_CHILD], cwd=REPO, capture_output=True,
                       text=True, timeout=120, env=dict(os.environ))
    assert r.returncode == 0, r.stdout + r.stderr


COEXIST = """
import numpy as np
import torch, sklearn.linear_model
import fastloss as fl
from threadpoolctl import threadpool_info, threadpool_limits
x = np.random.default_rng(0).standard_normal(2_000_000).astype(np.float32)
ref = float(fl.log_sigmoid(x).sum())
assert float(torch.nn.functional.logsigmoid(torch.from_numpy(x)).sum()) - ref < 1.0
sklearn.linear_model.LogisticRegression().fit(np.c_[x[:200], x[200:400]], x[:200] > 0)
info = threadpool_info()
gomp = [i for i in info if i['internal_api'] == 'openmp' and 'gomp' in i['filepath']]
assert gomp, info
with threadpool_limits(1):
    assert fl.get_num_threads() == 1, fl.get_num_threads()
    assert float(fl.log_sigmoid(x).sum()) == ref
with threadpool_limits(1, user_api='openmp'):
    assert fl.get_num_threads() == 1
assert fl.get_num_threads() == __import__('os').cpu_count() or fl.get_num_threads() >= 1
print('ok')
"""


@pytest.mark.parametrize('order', ['torch-first', 'fastloss-first'])
def test_next_to_torch_and_sklearn_and_threadpoolctl(order):
    pytest.importorskip('torch')
    pytest.importorskip('sklearn')
    pytest.importorskip('threadpoolctl')
    code = COEXIST if order == 'torch-first' else 'import fastloss\n' + COEXIST
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=REPO,
                       capture_output=True, text=True, timeout=180,
                       env=dict(os.environ))
    assert r.returncode == 0 and 'ok' in r.stdout, r.stdout + r.stderr


def test_threadpool_limits_in_process():
    tpc = pytest.importorskip('threadpoolctl')
    libs = [i for i in tpc.threadpool_info() if i['internal_api'] == 'openmp']
    assert any('gomp' in i['filepath'] for i in libs), libs
    before = fl.get_num_threads()
    with tpc.threadpool_limits(1):
        assert fl.get_num_threads() == 1
    assert fl.get_num_threads() == before
