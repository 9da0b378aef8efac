"""The C selftest through make: natively (plain, ASan/UBSan, valgrind) and cross-compiled
under qemu-user (MIPS32r2 BE/LE, ARMv7 with and without NEON, 32-bit limbs on the host).

Never skipped: a missing toolchain is a failure that says how to install it
(`make cross-deps`, which `make test` runs through `make deps`)."""

import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.cross

NATIVE_TOOLS = ["cc", "valgrind"]
CROSS_TOOLS = [
    "mips-linux-gnu-gcc",
    "mipsel-linux-gnu-gcc",
    "arm-linux-gnueabihf-gcc",
    "qemu-mips",
    "qemu-mipsel",
    "qemu-arm",
    "cc",
]


def _require(tools):
    missing = [t for t in tools if shutil.which(t) is None]
    assert not missing, (
        f"missing tools: {', '.join(missing)}; install them with `make -C {ROOT} cross-deps` "
        "(apt: gcc-mips-linux-gnu gcc-mipsel-linux-gnu gcc-arm-linux-gnueabihf "
        "libc6-dev-{mips,mipsel,armhf}-cross qemu-user valgrind)"
    )


def _make(target, timeout):
    proc = subprocess.run(
        ["make", "-C", str(ROOT), target],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, (
        f"make {target} failed (exit {proc.returncode}):\n{out[-6000:]}"
    )
    return out


def _summaries(out):
    return [
        (int(p), int(f))
        for p, f in re.findall(r"^(\d+) passed, (\d+) failed$", out, re.MULTILINE)
    ]


def test_selftest_native_asan_valgrind():
    _require(NATIVE_TOOLS)
    out = _make("selftest", timeout=600)
    runs = _summaries(out)
    assert len(runs) == 3, (
        f"expected 3 selftest runs (native, sanitizers, valgrind):\n{out[-3000:]}"
    )
    assert all(p > 0 and f == 0 for p, f in runs), runs


def test_cross_qemu():
    _require(CROSS_TOOLS)
    out = _make("cross-test", timeout=900)
    runs = _summaries(out)
    assert len(runs) == 5, f"expected 5 cross variants:\n{out[-3000:]}"
    assert all(p > 0 and f == 0 for p, f in runs), runs
    assert "cross-test: all variants passed" in out
