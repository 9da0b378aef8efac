"""`make bench-login` must keep working: it runs the installed console script, which a
change to the CLI once broke without any test noticing. A small burst, no figures asserted."""

import os
import subprocess
import sys

BENCH = os.path.join(os.path.dirname(__file__), "..", "bench", "bench_login.py")


def test_bench_login_runs_a_small_burst():
    out = subprocess.run([sys.executable, BENCH, "--clients", "4"], capture_output=True,
                         text=True, timeout=120)
    assert "did not start" not in out.stderr, out.stderr
    rows = [line for line in out.stdout.splitlines()
            if line.startswith(("one address", "4 addresses"))]
    assert len(rows) == 2, out.stdout + out.stderr
    assert all("'wrong'" in row for row in rows), out.stdout  # wrong passwords were checked
