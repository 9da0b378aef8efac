"""The rpcd exec plugin by itself (rpcd.py, as rpcd runs it: argv, stdin, stdout) and the
package files around it: the ACL guards every method of the page's object and nothing
else, LuCI's menu entry depends on that ACL group. On the real rpcd: test_rpcd.py."""

import io
import json
import os
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


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_list_runs_on_micropython(arch, tmp_path):
    """The plugin and the table are portable (docs/micropython.md): rpcd's `list` under
    MicroPython, on the router CPUs too, prints what CPython prints. (A call also needs
    its handlers' modules ported: uci/, router/, the web helpers.)"""
    with open(os.path.join(FILES, "rpcd", "wgpy.rpcd")) as f:
        body = f.read()
    for obj in methods.OBJECTS:
        script = tmp_path / obj
        script.write_text(body)
        result = mpyrun.run(arch, script, "list")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == json.loads(run([obj, "list"])[1]), obj
