"""The router package as installed (`make router-stage`, the file set package/wgpy/Makefile
installs): what is in it and what is not, and that the installed .mpy files and the stripped
libwgcore.so run `wgpy` on MicroPython for the router's CPU (under qemu-user)."""

import os
import subprocess

import pytest

from mpy import mpyrun

ROOT = mpyrun.ROOT


@pytest.fixture(scope="module", params=mpyrun.arch_params()[1:])  # the router CPUs
def stage(request):
    arch = request.param
    mpyrun.libwgcore(arch)  # skips without the cross compiler
    subprocess.run(["make", "-s", "router-stage", f"ROUTER_ARCH={arch}"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return arch, ROOT / "build" / "stage" / arch


def test_the_file_set(stage):
    _, root = stage
    files = {"/" + p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    for needed in ("/usr/bin/wgpy", "/usr/bin/wgpyd", "/lib/netifd/proto/wgpy.sh",
                   "/usr/lib/libwgcore.so", "/etc/config/wgpy",
                   "/usr/lib/micropython/wgpy/cli.mpy",
                   "/usr/lib/micropython/wgpy/runtime/mpy_os.mpy"):
        assert needed in files
    assert not [f for f in files if f.endswith(".py")]  # bytecode only
    for absent in ("/web/", "/webui/", "_core_build", "router/service", "router/ubus"):
        assert not [f for f in files if absent in f], absent
    symbols = subprocess.run(["file", str(root / "usr/lib/libwgcore.so")], capture_output=True,
                             text=True).stdout
    assert "stripped" in symbols and "not stripped" not in symbols


def test_the_installed_files_run_wgpy(stage, tmp_path):
    arch, root = stage
    (tmp_path / "network").write_text(
        "config interface 'wg0'\n\toption proto 'wgpy'\n\toption mtu '20'\n")
    env = dict(os.environ, WGPY_RUN_DIR=str(tmp_path / "run"),
               WGPY_LIBWGCORE=str(root / "usr/lib/libwgcore.so"),
               MICROPYPATH=f".frozen:{root}/usr/lib/micropython:"
                           f"{mpyrun.PREFIX / 'lib' / 'micropython'}")
    # The launcher's own command line, with the staged tree in place of /usr/lib.
    command = [*mpyrun.interpreter(arch), "-X", "heapsize=4M", "-m", "wgpy.cli"]
    new = subprocess.run(command + ["genkey"], env=env, capture_output=True, text=True)
    assert new.returncode == 0 and len(new.stdout) == 45, new.stderr
    status = subprocess.run(command + ["-c", str(tmp_path), "status"], env=env,
                            capture_output=True, text=True)
    assert status.returncode == 0, status.stderr
    assert "interface: wg0 (down)" in status.stdout and "out of range" in status.stdout
