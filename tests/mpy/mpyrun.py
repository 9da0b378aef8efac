"""Running code under MicroPython from the tests: the interpreters ../shared/micropython
builds (`make mpy-deps`), native and, under qemu-user, for the router CPUs."""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PREFIX = pathlib.Path(os.environ.get("MPY_PREFIX", "/var/cache/wgpy-micropython"))
BUILD = ROOT / "build"

# arch -> (C compiler and flags as mk/mpy.mk builds libwgcore, qemu-user runner or None)
ARCHES = {
    "x86_64": (["cc"], None),
    "mipsel": (["mipsel-linux-gnu-gcc", "-march=mips32r2"], "qemu-mipsel"),
    "armhf": (["arm-linux-gnueabihf-gcc", "-march=armv7-a", "-mfpu=neon", "-mfloat-abi=hard"],
              "qemu-arm"),
}


def interpreter(arch: str) -> list:
    """The command running MicroPython for arch, or skip saying what is missing.

    Cross binaries run without qemu's -L (../shared/micropython/README.md: the toolchain's
    loader would mix two glibc builds and crash pthread_create)."""
    name = "micropython" if arch == "x86_64" else f"micropython-{arch}"
    binary = PREFIX / "bin" / name
    if not binary.exists():
        pytest.skip(f"no {binary}: run `make mpy-deps` (needs ../shared/micropython)")
    runner = ARCHES[arch][1]
    if runner and not shutil.which(runner):
        pytest.skip(f"no {runner}: run `make cross-deps`")
    return ([runner] if runner else []) + [str(binary)]


def libwgcore(arch: str) -> pathlib.Path:
    """build/libwgcore.so for arch, made by mk/mpy.mk when missing or stale."""
    target = "build/libwgcore.so" if arch == "x86_64" else f"build/{arch}/libwgcore.so"
    compiler = ARCHES[arch][0][0]
    if not shutil.which(compiler):
        pytest.skip(f"no {compiler}: run `make cross-deps`")
    subprocess.run(["make", "-s", target], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return ROOT / target


def run(arch: str, script, *args, timeout: float = 300, heap: str = None,
        prefix=()) -> subprocess.CompletedProcess:
    """Run a script file under MicroPython for arch with src/ (wgpy) on its path and
    WGPY_LIBWGCORE naming that arch's C core; heap sets -X heapsize (default 2 MB);
    prefix goes before the command (e.g. `ip netns exec NS`)."""
    env = dict(os.environ,
               MICROPYPATH=f".frozen:{ROOT / 'src'}:{ROOT / 'tests'}:{PREFIX / 'lib' / 'micropython'}",
               WGPY_LIBWGCORE=str(libwgcore(arch)))
    options = ["-X", f"heapsize={heap}"] if heap else []
    return subprocess.run([*prefix, *interpreter(arch), *options, str(script), *map(str, args)],
                          cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


# The MicroPython wgpyd launcher (what a router installs as /usr/sbin/wgpyd).
WGPYD = ROOT / "src" / "wgpy" / "daemon" / "wgpyd-micropython"


def daemon_env(arch: str = "x86_64") -> dict:
    """The environment under which WGPYD runs this tree's wgpy on MicroPython for arch
    (skips saying what is missing)."""
    return dict(MICROPYTHON=" ".join(interpreter(arch)),
                MICROPYPATH=f".frozen:{ROOT / 'src'}:{PREFIX / 'lib' / 'micropython'}",
                WGPY_LIBWGCORE=str(libwgcore(arch)))


def arch_params() -> list:
    """Every arch as a pytest parameter; those under qemu-user carry the `cross` mark."""
    return [pytest.param(arch, marks=[pytest.mark.cross] if ARCHES[arch][1] else [])
            for arch in ARCHES]
