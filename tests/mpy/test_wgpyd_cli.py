"""The MicroPython launcher's command line is wgpyd's: the same answers, output streams
and exit codes as the CPython console script, for usage, version and a setup that fails
(in the foreground and daemonized: the forked child reports the failure to the parent)."""

import os
import subprocess
import sys

import pytest

from . import mpyrun

CPYTHON_WGPYD = os.path.join(os.path.dirname(sys.executable), "wgpyd")
# argv -> exit code
CASES = {("--help",): 0, ("--version",): 0, ("--bogus",): 2, (): 2, ("-f", "wg0", "extra"): 2,
         ("-f", "bad/name"): 1, ("bad/name",): 1}


def run(program, argv, env):
    result = subprocess.run([program, *argv], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, LOG_LEVEL="silent", **env))
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("argv,status", CASES.items())
def test_launcher_answers_as_the_console_script(argv, status):
    if not os.path.exists(CPYTHON_WGPYD):
        pytest.skip(f"no {CPYTHON_WGPYD}: run `make build`")
    ours = run(str(mpyrun.WGPYD), argv, mpyrun.daemon_env())
    assert ours == run(CPYTHON_WGPYD, argv, {})
    assert ours[0] == status
    if argv == ("bad/name",):     # the forked child's report, printed by the parent
        assert "setup of bad/name failed: invalid interface name" in ours[2]
