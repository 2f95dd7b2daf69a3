"""`python -m fastloss bench` (issue 4): a quick run on one kernel writes sane JSON."""
import importlib.util
import json
import math
import os
import subprocess
import sys

import fastloss


def test_bench_quick_json(tmp_path):
    out = tmp_path / 'bench.json'
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastloss.__file__)))
    # `python -m fastloss bench` needs fastloss._demo for its CLI; fall back to the module.
    have_demo = importlib.util.find_spec('fastloss._demo') is not None
    cli = ['fastloss', 'bench'] if have_demo else ['fastloss._bench']
    cmd = [sys.executable, '-m', *cli, '--quick', '--only', '^sigmoid$', '--no-bandwidth',
           '--threads', '1', '--peers', 'numpy,scipy', '--json', str(out)]
    p = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert 'sigmoid' in p.stdout and 'geometric mean' in p.stdout
    doc = json.loads(out.read_text())
    rows = doc['rows']
    assert rows and {r['kernel'] for r in rows} == {'sigmoid'}
    assert {r['size'] for r in rows} == {'1e3', '1e6'}
    for r in rows:
        assert r['dtype'] == 'float32' and r['threads'] == 1
        assert r['fastloss_s'] > 0 and math.isfinite(r['ns_per_element'])
        assert abs(r['ns_per_element'] - r['fastloss_s'] / r['elements'] * 1e9) < 1e-9
        assert r['times']['fastloss']['reps'] >= 1
        for peer, x in r['speedup'].items():
            assert x > 0 and r['times'][peer]['s'] > 0
    assert doc['machine']['cpu'] and doc['machine']['fastloss_build']['simd']
    assert doc['summary']['rows'] == len(rows)


def test_bench_spec_table():
    """Every activation and loss fastloss lists is benchmarked, and the cases run."""
    from fastloss import _bench as B
    names = {s.name for s in B.SPECS}
    for base in fastloss.ACTIVATIONS:
        assert base in names and base + '_grad' in names, base
    for base in fastloss.LOSSES:
        assert base in names and base + '_value_and_grad' in names, base
    assert all(s.inputs in B.INPUTS for s in B.SPECS)
    for spec, shape, dt in B.cases(only=['^sigmoid$', '^cross_entropy$'], elementwise=(64,),
                                   rowwise=((8, 5),)):
        a = B.make_inputs(spec, shape, dt)
        calls = B.make_callables(spec, a, 1, B._import_peers())
        assert 'fastloss' in calls and 'numpy' in calls
        for f in calls.values():
            f()


def test_bench_peers_compute_the_same():
    """The benchmark compares like with like: every peer call of the spec table returns
    fastloss's result (value and gradient; scikit-learn's per-sample gradient aside)."""
    import numpy as np
    from fastloss import _bench as B
    mods = B._import_peers()

    def arr(v):
        return v.detach().numpy() if hasattr(v, 'detach') else np.asarray(v)

    bad = []
    for spec, shape, dt in B.cases(elementwise=(1000,), rowwise=((64, 10),),
                                   ctc=((20, 4, 6, 5),), dtypes=('float64',), mods=mods):
        calls = B.make_callables(spec, B.make_inputs(spec, shape, dt), 1, mods)
        want = calls.pop('fastloss')()
        for impl, f in calls.items():
            got = f()
            if isinstance(want, tuple):
                pairs = [(want[0], got[0])] if impl == 'sklearn' else list(zip(want, got))
            else:
                pairs = [(want, got)]
            for w, g in pairs:
                w, g = arr(w), arr(g)
                if w.shape != g.shape or not np.allclose(w, g, rtol=1e-6, atol=1e-9):
                    bad.append(f"{spec.name} [{impl}]")
    assert not bad, bad


def test_timer_retimes_rows_at_parity(monkeypatch):
    """Rows where fastloss and its fastest peer are within 10% get twice their rounds again
    for those two (a symmetric re-measurement, not a bias); clear rows do not."""
    from fastloss import _bench as B
    monkeypatch.setattr(B, '_sample', lambda f, number: f())   # a call "takes" what f says

    def takes(seconds):
        return lambda: seconds

    timer = B.Timer(budget=1e-3, min_reps=3, max_reps=5)
    res = timer.measure({'fastloss': takes(1e-4), 'torch': takes(1.05e-4),
                         'scipy': takes(1.5e-4), 'numpy': takes(0.99e-4)})
    assert res['fastloss']['retimed'] and res['torch']['retimed']
    assert not res['scipy'].get('retimed')        # not the closest peer
    assert not res['numpy'].get('retimed')        # the reference is never a contender
    assert res['fastloss']['reps'] == res['torch']['reps'] == 3 * res['scipy']['reps'] == 9
    res = timer.measure({'fastloss': takes(1e-4), 'torch': takes(1.2e-4)})
    assert not res['fastloss'].get('retimed') and res['fastloss']['reps'] == res['torch']['reps']
    res = B.Timer(budget=1e-3, min_reps=3, max_reps=5, close_rounds=0).measure(
        {'fastloss': takes(1e-4), 'torch': takes(1e-4)})
    assert not res['fastloss'].get('retimed') and res['fastloss']['reps'] == 3
