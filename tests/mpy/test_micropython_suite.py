"""The known-answer, protocol and UAPI text unit tests, run by MicroPython from the same files
(tests/mpy/runner.py) on x86_64, and under qemu-user on MIPS32r2 LE and ARMv7: none
fails, and every case pytest collects from those files is either run or skipped by
name with its reason (nothing is silently lost)."""

import re
import subprocess
import sys

import pytest

from . import mpyrun

SUITES = {
    "kat": sorted(p.relative_to(mpyrun.ROOT / "tests").as_posix()
                  for p in (mpyrun.ROOT / "tests" / "kat").glob("test_*.py")),
    # test_*_native.py compare the C handshake (wgpy.handshake_native, cffi) with the pure
    # path; MicroPython has no binding for it yet, so noise.py runs its pure path there.
    "protocol": sorted(p.relative_to(mpyrun.ROOT / "tests").as_posix()
                       for p in (mpyrun.ROOT / "tests" / "protocol").glob("test_*.py")
                       if not p.name.endswith("_native.py")),
    # uapi/'s text protocol; the server (sockets) is not ported yet.
    "uapi": ["uapi/test_uapi_apply.py", "uapi/test_uapi_parse.py"],
    # The UCI reader and schema, the router's pure logic (the rest needs files, processes
    # or namespaces: tests/mpy/test_uci_router.py runs those parts against CPython).
    "uci": ["uci/test_schema.py", "uci/test_syntax.py"],
    "router": ["router/test_logic.py", "router/test_mtu_policy.py"],
}
# What may be skipped under MicroPython, at most (runner.py names each and why).
MAX_SKIPPED = {"kat": 204, "protocol": 6, "uapi": 1, "uci": 5, "router": 1}


def collected(files) -> int:
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          *(f"tests/{f}" for f in files)], cwd=mpyrun.ROOT, capture_output=True,
                         text=True, check=True).stdout
    return int(re.search(r"(\d+) tests? collected", out).group(1))


@pytest.mark.parametrize("suite", sorted(SUITES))
@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_suite_passes_under_micropython(arch, suite):
    files = SUITES[suite]
    # The Wycheproof files are parsed whole: more than the default 2 MB heap holds.
    result = mpyrun.run(arch, mpyrun.ROOT / "tests" / "mpy" / "runner.py", *files, timeout=900,
                        heap="16M")
    summary = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", result.stdout, re.M)
    assert summary, result.stdout[-3000:] + result.stderr[-3000:]
    passed, failed, skipped = map(int, summary.groups())
    print(f"{arch} {suite}: {summary.group(0)}")
    assert (failed, result.returncode) == (0, 0), result.stdout[-5000:]
    assert skipped <= MAX_SKIPPED[suite]
    assert passed + skipped == collected(files)
