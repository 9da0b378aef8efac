"""`make demo ARGS=--check` as a test: the whole home-network scenario of demo/homelab.py (LAN
behind a wgpy router, tunnel to wireguard-go, NAT, web UI) must pass every check and leave
no namespace behind. Needs root; `make test` installs the tools it uses (a missing one fails)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "demo", "homelab.py")

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
]


def _namespaces(pid: int) -> list:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.startswith(f"wgdemo{pid}-")]


def test_demo_check_passes_and_cleans_up():
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "tests"))     # as `make demo`
    proc = subprocess.Popen([sys.executable, DEMO, "--check"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        output, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the demo cleans up on SIGTERM
        output, _ = proc.communicate(timeout=30)
        pytest.fail(f"demo --check took over 120 s:\n{output}")
    assert proc.returncode == 0, output
    assert "0 failed" in output, output
    assert _namespaces(proc.pid) == []
