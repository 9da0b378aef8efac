"""A router for the page on the REAL uhttpd + rpcd + ubusd (../shared/owrt): wgpy's ubus
objects are the package's rpcd exec plugin (package/wgpy/files/rpcd/wgpy.rpcd, on the
runtime `plugin_runtime` names: the venv's CPython or this tree on MicroPython), guarded by the package's ACL files, the page is served by uhttpd at /wgpy/,
and logins are rpcd's, against /etc/shadow entries. Nothing of wgpy stays running.

Logins: root as OpenWrt ships it (every ACL group), `viewer` with only the read half of the
package's group, `stranger` with none of it.
"""

import os
import shutil
import sys

from support import owrt

sys.path.insert(0, os.path.join(str(owrt.REPO), "tests", "router"))
from owrtrouter import OwrtRouter, shadow_entry  # noqa: E402

from wgpy.web import cli, methods  # noqa: E402

REPO = str(owrt.REPO)
ACL_DIR = os.path.join(REPO, "package", "wgpy", "files", "acl.d")
PLUGIN = os.path.join(REPO, "package", "wgpy", "files", "rpcd", "wgpy.rpcd")
ROOT_PASSWORD = "router secret"
RPCD_CONF = """
config login
\toption username 'root'
\toption password '$p$root'
\tlist read '*'
\tlist write '*'

config login
\toption username 'viewer'
\toption password '$p$viewer'
\tlist read 'wgpy'

config login
\toption username 'stranger'
\toption password '$p$stranger'
\tlist read 'unauthenticated'
\tlist write 'unauthenticated'
"""
DENIED = {"code": -32002, "message": "Access denied"}


CPYTHON, MICROPYTHON = "cpython", "micropython"  # plugin_runtime


def plugin_dir(path, plugin_runtime: str = CPYTHON, arch: str = "x86_64", lib=None) -> str:
    """/usr/libexec/rpcd as the package installs it. MICROPYTHON: the package's launcher
    itself, preceded by the environment a router has by its file layout (rpcd runs plugins
    in its own, clean, environment): the interpreter for `arch` in WGPY_MICROPYTHON (a
    script running it under qemu-user for the router CPUs), this tree's wgpy and the C core
    for `arch`; `lib` in place of src/ holds wgpy (the package's .mpy files). CPYTHON: the
    same module on the venv's Python (which has wgpy)."""
    path.mkdir()
    with open(PLUGIN) as f:
        launcher = f.read().split("\n", 1)[1]
    if plugin_runtime == MICROPYTHON:
        from mpy import mpyrun
        env = mpyrun.daemon_env(arch)  # skips without MicroPython
        interpreter = path.parent / f"micropython-{arch}"
        interpreter.write_text(f'#!/bin/sh\nexec {env["MICROPYTHON"]} "$@"\n')
        interpreter.chmod(0o755)
        path_ = env["MICROPYPATH"] if lib is None else \
            env["MICROPYPATH"].replace(str(mpyrun.ROOT / "src"), str(lib))
        body = (f"export WGPY_MICROPYTHON='{interpreter}' MICROPYPATH='{path_}'"
                f" WGPY_LIBWGCORE='{env['WGPY_LIBWGCORE']}'\n{launcher}")
    else:
        body = f'exec {sys.executable} -m wgpy.web.rpcd "$0" "$@"\n'
    for obj in methods.OBJECTS:
        (path / obj).write_text(f"#!/bin/sh\n{body}")
        (path / obj).chmod(0o755)
    return str(path)


def start(name: str, tmp, network: str, *extra: str, daemons: str = "ubusd rpcd uhttpd",
          http: str = "127.0.0.1:80", plugin_runtime: str = CPYTHON) -> OwrtRouter:
    """Router `name` with config `network`, the plugin on `plugin_runtime`, the ACLs and
    the page at /wgpy/."""
    config = tmp / "config"
    config.mkdir(exist_ok=True)
    (config / "network").write_text(network)
    (config / "system").write_text("\nconfig system\n\toption hostname 'owrtweb'\n")
    (tmp / "shadow").write_text("".join(shadow_entry(user, ROOT_PASSWORD)
                                        for user in ("root", "viewer", "stranger")))
    (tmp / "rpcd").write_text(RPCD_CONF)
    www = tmp / "www"
    shutil.copytree(cli.default_webroot(), www / "wgpy")
    box = OwrtRouter(name)
    box.start(str(config), "--shadow", str(tmp / "shadow"), "--rpcd-conf", str(tmp / "rpcd"),
              "--acl", ACL_DIR, "--www", str(www), "--http", http,
              "--bind", f"{plugin_dir(tmp / 'libexec', plugin_runtime)}:/usr/libexec/rpcd",
              "--daemons", daemons, "--private-tmp", *extra)
    # rpcd runs each plugin's `list` after it is up (router-ns waited for that much)
    box.exec("ubus", "-t", "20", "wait_for", *methods.OBJECTS)
    return box
