"""Thread API, OMP_NUM_THREADS / threadpoolctl, show_config and `python -m fastloss info`."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastloss as fl


def test_num_threads_context_and_setter():
    before = fl.get_num_threads()
    with fl.num_threads(1):
        assert fl.get_num_threads() == 1
    assert fl.get_num_threads() == before
    with pytest.raises(ValueError):
        fl.set_num_threads(0)
    with pytest.raises(TypeError):
        fl.set_num_threads(1.5)


def run_python(code, **env):
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_omp_num_threads_is_honoured():
    assert run_python('import fastloss as fl; print(fl.get_num_threads())',
                      OMP_NUM_THREADS='1') == '1'


def test_threadpoolctl_limits_fastloss():
    threadpoolctl = pytest.importorskip('threadpoolctl')
    info = threadpoolctl.threadpool_info()
    assert any(i.get('user_api') == 'openmp' for i in info)
    with threadpoolctl.threadpool_limits(1, user_api='openmp'):
        assert fl.get_num_threads() == 1
        fl.sigmoid(np.zeros(2_000_000))          # runs (serially) inside the limit


def test_show_config(capsys):
    fl.show_config()
    text = capsys.readouterr().out
    for key in ('compiler', 'cflags', 'OpenMP', 'SIMD', 'threads'):
        assert key in text
    assert '-O3' in text and 'fast-math' not in text


def test_cli_info():
    out = subprocess.run([sys.executable, '-m', 'fastloss', 'info'], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and 'SIMD' in out.stdout


def test_public_names():
    for name in fl.ACTIVATIONS:
        assert callable(getattr(fl, name)) and callable(getattr(fl.reference, name))
        if name not in ('softmax', 'log_softmax', 'prelu'):
            assert callable(getattr(fl, name + '_grad'))
    for name in fl.LOSSES:
        for form in ('', '_grad', '_value_and_grad'):
            assert callable(getattr(fl, name + form)), name + form
            assert callable(getattr(fl.reference, name + form)), 'reference.' + name + form
    assert set(fl.__all__) <= set(dir(fl))
