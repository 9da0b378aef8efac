"""The page's endpoint suggestion (web/reach.py) under MicroPython answers as on CPython:
the order of the offered hosts and the public/private judgement (`is_global` of wgpy's
ipaddress subset) decide what the wizard shows."""

import json

import pytest

from wgpy.web import reach

from . import mpyrun

CASES = [
    ([], "router", ["203.0.114.5", "192.168.1.1"]),
    ([], "router", ["192.168.1.1", "100.64.3.4"]),
    (["vpn.example.org"], "router.lan", ["10.0.0.2", "2a00:1450::7", "10.0.0.2"]),
    ([], "gw.example.net", ["fd00::1", "198.51.100.4", "8.8.4.4"]),
    ([], "router", []),
]
SCRIPT = """
import json, sys
from wgpy.web import reach
with open(sys.argv[1]) as f:
    cases = json.load(f)
for ddns, hostname, wan in cases:
    print(json.dumps(reach.candidates(ddns, hostname, wan)))
"""


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_suggested_endpoints_as_on_cpython(arch, tmp_path):
    script, cases = tmp_path / "suggest.py", tmp_path / "cases.json"
    script.write_text(SCRIPT)
    # A file: a 258-character argument stopped MicroPython ("FATAL: uncaught NLR").
    cases.write_text(json.dumps(CASES))
    out = mpyrun.run(arch, script, cases, heap="4M")  # the launchers' heap
    assert out.returncode == 0, out.stderr
    ours = [json.loads(line) for line in out.stdout.splitlines()]
    assert ours == [list(reach.candidates(*case)) for case in CASES]
