"""The rpcd exec plugin by itself (rpcd.py, as rpcd runs it: argv, stdin, stdout) and the
package files around it: the ACL guards every method of the page's object and nothing
else, LuCI's menu entry depends on that ACL group. On the real rpcd: test_rpcd.py."""

import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from mpy import mpyrun
from webdata import NETWORK
from wgpy.uci.store import Store
from wgpy.web import methods, rpcd

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FILES = os.path.join(ROOT, "package", "wgpy", "files")


def run(argv, stdin="", ctx=None):
    out = io.StringIO()
    status = rpcd.run(argv, io.StringIO(stdin), out, ctx)
    return status, out.getvalue()


@pytest.fixture
def ctx(tmp_path):
    (tmp_path / "network").write_text(NETWORK)
    return methods.Context(store=Store(str(tmp_path)))


def test_list_prints_signatures_rpcd_can_read():
    """rpcd reads types from the example values: "string", an int (its width), a bool,
    an array, a table; every method of every object is there."""
    for obj in methods.OBJECTS:
        status, out = run([f"/usr/libexec/rpcd/{obj}", "list"])
        listed = json.loads(out)
        assert status == 0 and set(listed) == set(methods.OBJECTS[obj])
        for signature in listed.values():
            for kind in signature.values():
                assert kind in ("string", 8, 16, 32, 64, True, [], {}), (obj, signature)


def test_call_answers_one_object_and_refusals_travel_in_it(ctx):
    status, out = run(["/x/wgpy", "call", "interfaces"], '{"ubus_rpc_session": "ab"}', ctx)
    assert status == 0 and json.loads(out)["interfaces"] == ["wgwebapi0"]
    status, out = run(["/x/wgpy", "call", "peer_add"],
                      json.dumps({"interface": "wgwebapi0", "public_key": "x"}), ctx)
    assert json.loads(out) == {"error": json.loads(out)["error"], "code": methods.INVALID,
                               "field": "public_key"}
    status, out = run(["/x/wgpy", "call", "interface"], '{"interface": "nope"}', ctx)
    assert json.loads(out)["code"] == methods.NOT_FOUND


def test_bad_arguments_are_not_an_object_so_rpcd_answers_invalid_argument(ctx):
    assert run(["/x/wireguard", "call", "pubkey"], '{"private": "x"}', ctx) == (1, "[]")
    assert run(["/x/wgpy", "call", "status"], "{nope", ctx) == (1, "[]")
    assert run(["/x/wgpy", "call", "status"], "[1]", ctx) == (1, "[]")


def test_unknown_object_or_method_is_a_usage_error():
    assert run(["/x/nope", "list"]) == (2, "")
    assert run(["/x/wgpy", "call", "nope"]) == (2, "")
    assert run(["/x/wgpy"]) == (2, "")


def test_a_bug_answers_internal_with_the_trace_on_stderr(ctx, monkeypatch, capsys):
    def broken(ctx, args):
        raise RuntimeError("boom")
    monkeypatch.setattr(methods.OBJECTS["wgpy"]["psk"], "handler", broken)
    status, out = run(["/x/wgpy", "call", "psk"], "{}", ctx)
    assert json.loads(out) == {"error": "internal error: RuntimeError: boom",
                               "code": methods.INTERNAL}
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_list_loads_no_handler_module():
    """rpcd runs `list` for every object at its start: only the table is imported."""
    code = ("import sys; from wgpy.web import rpcd; rpcd.main(['/x/wgpy', 'list']); "
            "print(); print(sorted(m for m in sys.modules if m.startswith('wgpy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()[-1]
    assert out == str(sorted(["wgpy", "wgpy.runtime", "wgpy.runtime.compat", "wgpy.web",
                              "wgpy.web.methods", "wgpy.web.rpcd"]))


def test_the_acl_grants_every_method_of_the_page_once():
    with open(os.path.join(FILES, "acl.d", "wgpy.json")) as f:
        acl = json.load(f)["wgpy"]
    read, write = acl["read"]["ubus"]["wgpy"], acl["write"]["ubus"]["wgpy"]
    assert sorted(read + write) == sorted(methods.OBJECTS["wgpy"])
    assert not set(read) & set(write)
    assert set(read) == {"status", "interfaces", "interface", "suggest"}  # no writes, no keys
    with open(os.path.join(FILES, "acl.d", "luci-wgpy.json")) as f:
        luci = json.load(f)["luci-proto-wgpy"]
    granted = luci["read"]["ubus"]["luci.wireguard"] + luci["write"]["ubus"]["luci.wireguard"]
    assert sorted(granted) == sorted(methods.OBJECTS["luci.wireguard"])


def test_lucis_menu_entry_needs_the_acl_group_and_names_its_view():
    with open(os.path.join(FILES, "luci", "menu.d", "luci-app-wgpy.json")) as f:
        [(path, entry)] = json.load(f).items()
    assert entry["depends"]["acl"] == ["wgpy"]
    view = entry["action"]["path"]
    assert os.path.isfile(os.path.join(FILES, "luci", "view", f"{view}.js"))


def launcher_env(arch, tmp_path) -> dict:
    """The environment under which the package's launcher runs this tree's plugin on
    MicroPython for arch: WGPY_MICROPYTHON, the launcher's one setting, names a script that
    runs the interpreter (under qemu-user for the router CPUs)."""
    env = mpyrun.daemon_env(arch)
    interpreter = tmp_path / "micropython"
    interpreter.write_text(f'#!/bin/sh\nexec {env.pop("MICROPYTHON")} "$@"\n')
    interpreter.chmod(0o755)
    return dict(os.environ, WGPY_MICROPYTHON=str(interpreter), **env)


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_the_launcher_runs_the_plugin_on_micropython(arch, tmp_path):
    """The package's launcher under each object's name, on MicroPython (the router CPUs
    under qemu-user): `list` prints what CPython prints; a call needing no config answers."""
    env = launcher_env(arch, tmp_path)
    for obj in methods.OBJECTS:
        launcher = tmp_path / obj
        shutil.copy(os.path.join(FILES, "rpcd", "wgpy.rpcd"), launcher)
        result = subprocess.run([str(launcher), "list"], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == json.loads(run([obj, "list"])[1]), obj
    keys = subprocess.run([str(tmp_path / "wgpy"), "call", "keypair"], input="{}", env=env,
                          capture_output=True, text=True, timeout=120)
    pair = json.loads(keys.stdout)
    assert len(pair["private_key"]) == 44 and len(pair["public_key"]) == 44, keys.stderr


# Runs the plugin on MicroPython against a config directory (rpcd's plugin reads
# /etc/config; test_rpcd.py runs it there under the real rpcd).
CALLS = """
import sys
from wgpy.uci.store import Store
from wgpy.web import methods, rpcd
sys.exit(rpcd.run(sys.argv[2:], sys.stdin, sys.stdout, methods.Context(store=Store(sys.argv[1]))))
"""


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_the_handlers_answer_on_micropython_as_on_cpython(arch, tmp_path):
    """The page's reads, a write, a refused value and a missing interface, each one plugin
    call on MicroPython, answer what CPython answers, and the write is the same file."""
    (tmp_path / "mpy").mkdir()
    (tmp_path / "cpy").mkdir()
    for conf in ("mpy", "cpy"):
        (tmp_path / conf / "network").write_text(NETWORK)
    script = tmp_path / "calls.py"
    script.write_text(CALLS)
    env = mpyrun.daemon_env(arch)
    command = env.pop("MICROPYTHON").split() + [str(script), str(tmp_path / "mpy"), "/x/wgpy"]
    cpython = methods.Context(store=Store(str(tmp_path / "cpy")))
    peer = {"interface": "wgwebapi0", "public_key": "YZ0hTXyPTpTD7GFoI4XdehMSvWluXN3u6EH3vmEyd1Q=",
            "allowed_ips": ["10.99.0.7/32"], "description": "tablet"}
    def both(method, args):
        result = subprocess.run(command + ["call", method], input=json.dumps(args),
                                env=dict(os.environ, **env), capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        return (json.loads(result.stdout),
                json.loads(run(["/x/wgpy", "call", method], json.dumps(args), cpython)[1]))

    for method, args in (("status", {}), ("interfaces", {}),
                         ("interface", {"interface": "wgwebapi0"}),
                         ("peer_add", dict(peer, allowed_ips=["10.99.0.300/32"])),
                         ("interface", {"interface": "nope"})):
        mpy, cpy = both(method, args)
        assert mpy == cpy, (method, args)
    mpy, cpy = both("peer_add", peer)  # a new section's name is random
    assert mpy["apply"] == cpy["apply"]
    names = mpy["section"], cpy["section"]
    mpy, cpy = both("interface", {"interface": "wgwebapi0"})
    unnamed = [[{k: v for k, v in p.items() if k not in ("section", "revision")}
                for p in view.pop("peers")] for view in (mpy, cpy)]
    assert mpy == cpy and unnamed[0] == unnamed[1] and "tablet" in str(unnamed[0])
    written = (tmp_path / "mpy" / "network").read_text().replace(*names)
    assert written == (tmp_path / "cpy" / "network").read_text()
