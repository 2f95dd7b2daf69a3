"""Fuzz target over the public API (issue 5): random junk and valid-ish arguments to every
public function; anything but TypeError/ValueError (or a crash) is a finding.

    FASTLOSS_FUZZ_SECONDS=600 python tests/fuzz_api.py        # long Hypothesis run

Not collected by pytest (no test_ prefix); tests/test_properties.py runs the same
generator with a small example count in CI."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from test_properties import PUBLIC, fuzz_one  # noqa: E402


def main():
    seconds = float(os.environ.get('FASTLOSS_FUZZ_SECONDS', '60'))
    end = time.time() + seconds
    calls = [0]

    @settings(max_examples=10**9, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(PUBLIC), st.data())
    def run(name, data):
        if time.time() > end:
            raise KeyboardInterrupt
        calls[0] += 1
        fuzz_one(data, name)

    t0 = time.time()
    try:
        run()
    except KeyboardInterrupt:
        pass
    print(f"fuzz_api: {calls[0]} calls over {len(PUBLIC)} functions in "
          f"{time.time() - t0:.0f} s, no crash, only TypeError/ValueError")


if __name__ == '__main__':
    main()
