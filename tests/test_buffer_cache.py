"""The buffer cache for large results (fl_bufcache.h): a freed result of >= 1 MiB is kept and
its memory reused by the next result of the same size; results are never shared, values are
those of out=, the cache respects its limit, turns off, survives resize, threads and fork."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastloss as fl

N = 1 << 19                       # 2 MiB of float32: above the cache's 1 MiB floor


@pytest.fixture(autouse=True)
def default_limit():
    yield
    fl.set_buffer_cache(256 << 20)


try:
    from numpy._core.multiarray import get_handler_name as handler_name
except ImportError:                              # NumPy 1.x
    from numpy.core.multiarray import get_handler_name as handler_name


def test_large_results_reuse_freed_buffers():
    x = np.random.default_rng(0).standard_normal(N).astype(np.float32)
    fl.set_buffer_cache(0)
    fl.set_buffer_cache(64 << 20)
    y = fl.sigmoid(x)
    assert handler_name(y) == 'fastloss_buffer_cache' and y.flags.owndata
    assert y.ctypes.data % 64 == 0
    address = y.ctypes.data
    del y
    assert fl.buffer_cache_info()['buffers'] == 1
    hits = fl.buffer_cache_info()['hits']
    y = fl.tanh(x)
    assert y.ctypes.data == address and fl.buffer_cache_info()['hits'] == hits + 1
    np.testing.assert_array_equal(y, fl.tanh(x, out=np.empty_like(x)))
    z = fl.tanh(x)                               # y still alive: z gets other memory
    assert z.ctypes.data != y.ctypes.data
    np.testing.assert_array_equal(y, z)


def test_small_results_use_numpys_allocator():
    y = fl.sigmoid(np.zeros(1000, np.float32))
    assert handler_name(y) != 'fastloss_buffer_cache'


def test_limit_and_off():
    x = np.zeros(N, np.float64)                  # 4 MiB results
    fl.set_buffer_cache(9 << 20)                 # room for two
    ys = [fl.relu(x) for _ in range(4)]
    del ys
    info = fl.buffer_cache_info()
    assert info['buffers'] == 2 and info['bytes'] == 2 * x.nbytes <= info['limit']
    fl.set_buffer_cache(0)
    info = fl.buffer_cache_info()
    assert info['buffers'] == 0 and info['bytes'] == 0
    y = fl.relu(x)
    assert handler_name(y) != 'fastloss_buffer_cache'
    with pytest.raises(ValueError):
        fl.set_buffer_cache(-1)
    with pytest.raises(TypeError):
        fl.set_buffer_cache(1.5)


def test_at_most_eight_buffers():
    fl.set_buffer_cache(1 << 30)
    ys = [fl.relu(np.zeros(N + 1024 * i, np.float32)) for i in range(12)]
    del ys
    assert fl.buffer_cache_info()['buffers'] == 8


def test_resize_keeps_values():
    x = np.arange(N, dtype=np.float64)
    y = fl.identity(x)
    y.resize(N // 2, refcheck=False)
    np.testing.assert_array_equal(y, x[:N // 2])
    y.resize(3 * N, refcheck=False)
    np.testing.assert_array_equal(y[:N // 2], x[:N // 2])
    assert np.all(y[N // 2:] == 0)               # NumPy zero-fills the grown part
    del y


def test_threads_allocate_and_free_concurrently():
    x = np.random.default_rng(1).standard_normal(N).astype(np.float32)
    want = fl.sigmoid(x)
    errors = []

    def work():
        try:
            for _ in range(30):
                for y in (fl.sigmoid(x), fl.sigmoid(x[::-1])[::-1]):
                    if not np.array_equal(y, want):
                        errors.append('mismatch')
        except Exception as e:                   # noqa: BLE001
            errors.append(repr(e))
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_environment_limit_and_fork():
    code = ('import os, numpy as np, fastloss as fl\n'
            'print(fl.buffer_cache_info()["limit"])\n'
            'y = fl.relu(np.zeros(1 << 19)); del y\n'
            'pid = os.fork()\n'
            'if pid == 0:\n'
            '    y = fl.relu(np.zeros(1 << 19)); ok = bool((y == 0).all()); del y\n'
            '    os._exit(0 if ok else 1)\n'
            'print(os.waitpid(pid, 0)[1])\n')
    env = dict(os.environ, FASTLOSS_BUFFER_CACHE='16')
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(16 << 20), '0']
