"""The router package as installed (`make router-stage`, the file set package/wgpy/Makefile
installs): what is in it and what is not, and that the installed .mpy files and the stripped
libwgcore.so run `wgpy` and rpcd's plugin on MicroPython for the router's CPU (under
qemu-user)."""

import json
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
                   "/usr/lib/libwgcore.so", "/etc/init.d/wgpy",
                   "/usr/lib/micropython/wgpy/cli.mpy",
                   "/usr/lib/micropython/wgpy/runtime/mpy_os.mpy",
                   "/etc/hotplug.d/iface/90-wgpy", "/etc/uci-defaults/90-wgpy",
                   "/usr/libexec/rpcd/wgpy", "/usr/libexec/rpcd/wireguard",
                   "/usr/libexec/rpcd/luci.wireguard", "/usr/share/rpcd/acl.d/wgpy.json",
                   "/usr/share/rpcd/acl.d/luci-wgpy.json",
                   "/usr/lib/micropython/wgpy/web/rpcd.mpy",
                   "/usr/lib/micropython/wgpy/web/actions.mpy",
                   "/www/wgpy/index.html", "/www/wgpy/rpc.js",
                   "/usr/share/luci/menu.d/luci-app-wgpy.json",
                   "/www/luci-static/resources/view/wgpy/page.js"):
        assert needed in files, needed
    assert not [f for f in files if f.endswith(".py")]  # bytecode only
    # `wgpy web` is the development server: on routers uhttpd and rpcd do its work
    for absent in ("/webui/", "_core_build", "web/server", "web/jsonrpc", "web/auth",
                   "web/cli", "web/hosts", "/etc/config/"):
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


def test_the_installed_plugin_answers_rpcd(stage, tmp_path):
    """rpcd's `list` and `call wgpy status` through the installed launcher and .mpy files,
    on the router's CPU: WGPY_MICROPYTHON names the interpreter under qemu-user."""
    arch, root = stage
    interpreter = tmp_path / "micropython"
    interpreter.write_text(f'#!/bin/sh\nexec {" ".join(mpyrun.interpreter(arch))} "$@"\n')
    interpreter.chmod(0o755)
    env = dict(os.environ, WGPY_MICROPYTHON=str(interpreter), WGPY_RUN_DIR=str(tmp_path / "run"),
               WGPY_LIBWGCORE=str(root / "usr/lib/libwgcore.so"),
               MICROPYPATH=f".frozen:{root}/usr/lib/micropython:"
                           f"{mpyrun.PREFIX / 'lib' / 'micropython'}")
    plugin = str(root / "usr/libexec/rpcd/wgpy")
    listed = subprocess.run([plugin, "list"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert {"status", "peer_add", "device_add", "import"} <= set(json.loads(listed.stdout))
    status = subprocess.run([plugin, "call", "status"], input="{}", env=env,
                            capture_output=True, text=True)
    reply = json.loads(status.stdout)
    assert status.returncode == 0 and reply["hostname"], status.stderr
    if not os.path.exists("/etc/config/network"):  # a build machine: said, not a traceback
        assert reply["interfaces"] == {} and "/etc/config/network" in reply["errors"][0]
