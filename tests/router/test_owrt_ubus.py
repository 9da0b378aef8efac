"""wgpy's ubus objects on the REAL OpenWrt ubusd, rpcd and uhttpd (../shared/owrt), served by
`wgpy ubus` through OpenWrt's python3-ubus binding, with a live wgpyd interface whose peer is
wireguard-go in another namespace (routerlab's topology; the router namespace R is the OpenWrt
router). Called with the `ubus` CLI and over HTTP as LuCI's rpc.js calls them (uhttpd adds
`ubus_rpc_session`), behind the package's own rpcd ACL files. Only procd is absent: the
service is started the way its init script would, as a background process."""

import glob
import json
import os
import signal

import pytest
from owrtrouter import OwrtRouter, shadow_entry
from routerlab import ENDPOINT, SERVER_PORT, Lab
from test_end_to_end import network_config, router, server_peer_section, write

from support import owrt
from support.procs import wait_for
from wgpy.keys import public_key as public_key_of

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(owrt.skip_reason() is not None, reason=str(owrt.skip_reason()))]

REPO = str(owrt.REPO)
ACL_DIR = os.path.join(REPO, "package", "wgpy", "files", "acl.d")
WGPY = os.path.join(REPO, ".venv", "bin", "wgpy")
PASSWORD = "secret"
# rpcd logins: root as OpenWrt ships it (every ACL group), a read-only user of the package's
# group, and a user without it.
RPCD_CONF = """
config login
\toption username 'root'
\toption password '$p$root'
\tlist read '*'
\tlist write '*'

config login
\toption username 'viewer'
\toption password '$p$viewer'
\tlist read 'luci-proto-wgpy'

config login
\toption username 'stranger'
\toption password '$p$stranger'
\tlist read 'unauthenticated'
\tlist write 'unauthenticated'
"""
DENIED = {"code": -32002, "message": "Access denied"}


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """Router R with ubusd + rpcd + uhttpd, an event listener, `wgpy ubus`, and interface
    wgrN up with a completed handshake to the wireguard-go server in S."""
    tmp = tmp_path_factory.mktemp("owrt-ubus")
    lab = Lab(tmp)
    (tmp / "config").mkdir()
    box = None
    try:
        ifname, private = router(lab)
        write(lab, network_config(ifname, private, server_peer_section(ifname, lab.server_public)))
        (tmp / "shadow").write_text("".join(shadow_entry(user, PASSWORD)
                                            for user in ("root", "viewer", "stranger")))
        (tmp / "rpcd").write_text(RPCD_CONF)
        box = OwrtRouter(lab.R)
        box.start(str(tmp / "config"), "--shadow", str(tmp / "shadow"),
                  "--rpcd-conf", str(tmp / "rpcd"), "--acl", ACL_DIR,
                  "--daemons", "ubusd rpcd uhttpd", "--private-tmp")
        box.spawn("events", "ubus", "listen", "wgpy.peer.up", "wgpy.peer.down")
        # As /etc/init.d/wgpy runs it, with python3-ubus importable.
        service = box.spawn("service", "env", f"PYTHONPATH={owrt.PYLIB}",
                            WGPY, "-c", "/etc/config", "ubus")
        box.exec("ubus", "-t", "15", "wait_for", "wireguard", "luci.wireguard", "wgpy")
        box.exec(WGPY, "-c", "/etc/config", "up", ifname)
        assert lab.ok(lab.R, "ping", "-c1", "-W2", "10.77.0.2")
        yield lab, box, ifname, service
    finally:
        if box is not None:
            box.stop()
        lab.close()


def sessions(box):
    return {user: box.login(user, PASSWORD) for user in ("root", "viewer", "stranger")}


def events(box):
    """(name, data) of each event `ubus listen` printed so far."""
    out = []
    for line in box.log("events").splitlines():
        if line.startswith("{"):
            [(name, data)] = json.loads(line).items()
            out.append((name, data))
    return out


def wg_dump(box, ifname):
    """`wg show IFNAME dump` inside the router (its /var/run holds wgpyd's UAPI socket)."""
    lines = box.exec("wg", "show", ifname, "dump").stdout.strip().split("\n")
    return [line.split("\t") for line in lines]


# ---- the `ubus` CLI ----

def signatures(box):
    """`ubus -v list` as {object: {method: {argument: type}}}."""
    out, current = {}, None
    for line in box.exec("ubus", "-v", "list").stdout.splitlines():
        if line.startswith("'"):
            current = out.setdefault(line.split("'")[1], {})
        elif line.strip():
            current.update(json.loads("{" + line.strip() + "}"))
    return out


def test_objects_and_signatures_on_ubusd(rig):
    lab, box, ifname, _ = rig
    objects = signatures(box)
    web = {"ubus_rpc_session": "String"}  # uhttpd adds it to every call over HTTP
    assert objects["luci.wireguard"] == {
        "getWgInstances": web, "generateKeyPair": web, "generatePsk": web,
        "getPublicAndPrivateKeyFromPrivate": dict(web, privkey="String")}
    assert objects["wireguard"] == {"status": {}, "genkey": {}, "genpsk": {},
                                    "pubkey": {"private": "String"}}
    assert objects["wgpy"] == {"status": {}, "reload": {}}


def test_cli_wireguard_and_wgpy_status_see_the_handshake(rig):
    lab, box, ifname, _ = rig
    _, status = box.ubus("call", "wireguard", "status")
    peer = status[ifname]["peers"][lab.server_public]
    assert peer["endpoint"] == f"{ENDPOINT}:{SERVER_PORT}" and peer["last_handshake"] > 0
    assert peer["rx_bytes"] > 0 and peer["tx_bytes"] > 0
    _, mine = box.ubus("call", "wgpy", "status")
    [server] = mine["interfaces"][ifname]["peers"]
    assert (server["section"], server["description"], server["state"]) == \
        ("server", "exit node", "ok")
    code, keys = box.ubus("call", "wireguard", "genkey")
    assert code == 0 and public_key_of(keys["private"]) == keys["public"]
    _, pub = box.ubus("call", "wireguard", "pubkey", json.dumps({"private": keys["private"]}))
    assert pub == {"public": keys["public"]}
    # A live reload through ubus keeps the running session.
    before = wg_dump(box, ifname)[1][4]
    _, reloaded = box.ubus("call", "wgpy", "reload")
    assert reloaded == {"interfaces": {ifname: {"ok": True, "errors": [], "warnings": []}}}
    assert wg_dump(box, ifname)[1][4] == before
    bad = box.exec("ubus", "call", "wireguard", "pubkey", '{"private": "bad"}', check=False)
    assert (bad.returncode, "(Unknown error)" in bad.stderr) == (256 - 9, True)
    assert "HandlerError: private: not a WireGuard key" in box.log("service")


def test_cli_luci_wireguard_needs_the_session_argument(rig):
    """python3-ubus refuses a call without a declared argument: from the CLI, luci.wireguard
    answers Invalid argument (2) unless given what uhttpd would add."""
    lab, box, ifname, _ = rig
    refused = box.exec("ubus", "call", "luci.wireguard", "getWgInstances", check=False)
    assert refused.returncode == 256 - 2
    assert refused.stderr.startswith("Command failed: ubus call luci.wireguard getWgInstances "
                                     "(Invalid argument)\n")
    code, instances = box.ubus("call", "luci.wireguard", "getWgInstances",
                               json.dumps({"ubus_rpc_session": "local"}))
    assert code == 0 and instances[ifname]["peers"][0]["public_key"] == lab.server_public


# ---- over HTTP: uhttpd + rpcd sessions + the package's ACL files ----

def test_luci_page_calls_over_http(rig):
    """What LuCI's WireGuard status page and interface form call, as root: every value as
    `wg show dump` prints it, keys that belong together."""
    lab, box, ifname, _ = rig
    sid = sessions(box)["root"]
    reply = box.rpc(sid, "luci.wireguard", "getWgInstances")
    assert reply["result"][0] == 0, reply
    instance = reply["result"][1][ifname]
    dump = wg_dump(box, ifname)
    assert (instance["public_key"], instance["listen_port"], instance["fwmark"]) == \
        tuple(dump[0][1:4])
    [peer] = instance["peers"]
    key, _, endpoint, ips, handshake, _, _, keepalive = dump[1]
    assert (peer["name"], peer["public_key"], peer["endpoint"], peer["allowed_ips"],
            peer["latest_handshake"], peer["persistent_keepalive"]) == \
        ("exit node", key, endpoint, ips.split(","), handshake, keepalive)
    assert int(peer["latest_handshake"]) > 0 and int(peer["transfer_rx"]) > 0

    keys = box.rpc(sid, "luci.wireguard", "generateKeyPair")["result"][1]["keys"]
    assert public_key_of(keys["priv"]) == keys["pub"]
    assert box.rpc(sid, "luci.wireguard", "getPublicAndPrivateKeyFromPrivate",
                   {"privkey": keys["priv"]})["result"] == [0, {"keys": keys}]
    assert box.rpc(sid, "luci.wireguard", "getPublicAndPrivateKeyFromPrivate",
                   {"privkey": "not a key"})["result"] == \
        [0, {"keys": {"priv": "not a key", "pub": ""}}]
    psk = box.rpc(sid, "luci.wireguard", "generatePsk")["result"][1]["psk"]
    assert len(psk) == 44 and psk.endswith("=")


def granted():
    """{(group, mode): {object: [methods]}} and the uci grants, from the package's files."""
    ubus, uci = {}, {}
    for path in sorted(glob.glob(os.path.join(ACL_DIR, "*.json"))):
        with open(path) as f:
            for group, acl in json.load(f).items():
                for mode in ("read", "write"):
                    ubus[(group, mode)] = acl.get(mode, {}).get("ubus", {})
                    uci[(group, mode)] = acl.get(mode, {}).get("uci", [])
    return ubus, uci


def test_acl_files_grant_exactly_the_luci_page(rig):
    """One group; what luci-proto-wireguard's own ACL grants its page, and nothing else: no
    uci, no file, nothing of `wireguard` or `wgpy` (whose callers are on the router)."""
    ubus, uci = granted()
    assert ubus == {
        ("luci-proto-wgpy", "read"): {"luci.wireguard": ["getWgInstances"]},
        ("luci-proto-wgpy", "write"): {"luci.wireguard": [
            "generateKeyPair", "getPublicAndPrivateKeyFromPrivate", "generatePsk"]},
    }
    assert all(not grants for grants in uci.values())
    # ... and each granted method answers over HTTP (the strict binding would say 2 here
    # for a method that forgot uhttpd's session argument).
    lab, box, ifname, _ = rig
    sid = sessions(box)["root"]
    for methods in ubus.values():
        for obj, names in methods.items():
            for method in names:
                args = {"privkey": "x"} if method == "getPublicAndPrivateKeyFromPrivate" else {}
                assert box.rpc(sid, obj, method, args)["result"][0] == 0, (obj, method)


def test_acl_denies_what_is_not_granted(rig):
    lab, box, ifname, _ = rig
    sid = sessions(box)
    # root holds every group, yet nothing grants these over HTTP.
    for obj, method in (("wgpy", "status"), ("wgpy", "reload"), ("wireguard", "status"),
                        ("wireguard", "genkey"), ("luci.wireguard", "nonexistent")):
        assert box.rpc(sid["root"], obj, method).get("error") == DENIED, (obj, method)
    assert box.rpc(sid["root"], "uci", "get", {"config": "network"}).get("error") == DENIED
    # Read-only: the status page works, key generation (write) does not.
    assert box.rpc(sid["viewer"], "luci.wireguard", "getWgInstances")["result"][0] == 0
    for method, args in (("generateKeyPair", {}), ("generatePsk", {}),
                         ("getPublicAndPrivateKeyFromPrivate", {"privkey": "x"})):
        assert box.rpc(sid["viewer"], "luci.wireguard", method, args).get("error") == DENIED
    # LuCI's rpc.js sends the calls of one tick as a batch: each is checked on its own.
    batch = [{"jsonrpc": "2.0", "id": n, "method": "call",
              "params": [sid["viewer"], "luci.wireguard", method, {}]}
             for n, method in enumerate(("getWgInstances", "generateKeyPair"))]
    first, second = sorted(box.post(batch), key=lambda r: r["id"])
    assert first["result"][0] == 0 and ifname in first["result"][1]
    assert second["error"] == DENIED
    # Without the group nothing of it.
    assert box.rpc(sid["stranger"], "luci.wireguard", "getWgInstances").get("error") == DENIED
    # Without a session (LuCI before login).
    assert box.rpc("0" * 32, "luci.wireguard", "getWgInstances").get("error") == DENIED


def test_an_object_rpcd_already_serves_stays_its(tmp_path):
    """luci-proto-wireguard installed too: its ucode plugin (run by the real rpcd) keeps
    `luci.wireguard`; wgpy serves the two other objects beside it."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "network").write_text(
        "\nconfig interface 'wgx'\n\toption proto 'wgpy'\n")
    (tmp_path / "ucode").mkdir()
    (tmp_path / "ucode" / "luci.wireguard").write_text(
        "'use strict';\nreturn { 'luci.wireguard': { getWgInstances: "
        "{ call: function() { return { owner: 'ucode' }; } } } };\n")
    box = OwrtRouter(f"wgpyu{os.getpid() % 100000}")
    try:
        box.start(str(tmp_path / "config"), "--daemons", "ubusd rpcd",
                  "--bind", f"{tmp_path / 'ucode'}:/usr/share/rpcd/ucode")
        box.exec("ubus", "-t", "10", "wait_for", "luci.wireguard")
        box.spawn("service", "env", f"PYTHONPATH={owrt.PYLIB}", WGPY, "-c", "/etc/config", "ubus")
        box.exec("ubus", "-t", "15", "wait_for", "wireguard", "wgpy")
        assert box.ubus("call", "luci.wireguard", "getWgInstances") == (0, {"owner": "ucode"})
        assert box.ubus("call", "wgpy", "status")[1]["interfaces"]["wgx"]["up"] is False
    finally:
        box.stop()


def test_objects_come_back_after_ubusd_restarts(tmp_path):
    """procd respawns a dead ubusd; python3-ubus never notices, the service must."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "network").write_text(
        "\nconfig interface 'wgx'\n\toption proto 'wgpy'\n")
    box = OwrtRouter(f"wgpyu{os.getpid() % 100000}")
    try:
        box.start(str(tmp_path / "config"), "--daemons", "ubusd")
        service = box.spawn("service", "env", f"PYTHONPATH={owrt.PYLIB}", WGPY,
                            "-c", "/etc/config", "ubus")
        box.exec("ubus", "-t", "15", "wait_for", "wireguard", "luci.wireguard", "wgpy")
        ubusd = box.pid("ubusd")
        os.kill(ubusd, signal.SIGTERM)
        wait_for(lambda: not os.path.exists(f"/proc/{ubusd}"), "ubusd to exit")
        box.spawn("ubusd", "/sbin/ubusd")
        box.exec("ubus", "-t", "15", "wait_for", "wireguard", "luci.wireguard", "wgpy")
        assert box.ubus("call", "wgpy", "status")[1]["interfaces"]["wgx"]["up"] is False
        assert os.path.exists(f"/proc/{service}")  # the same process, not a restart
        log = box.log("service")
        assert "lost the ubus connection" in log and "registered on ubus again" in log
    finally:
        box.stop()


# ---- events; these change the interface, so they run last ----

def test_peer_up_and_down_events(rig):
    lab, box, ifname, _ = rig
    wait_for(lambda: any(n == "wgpy.peer.up" for n, _ in events(box)),
             "wgpy.peer.up from the handshake", timeout=20)
    [(_, data)] = [e for e in events(box) if e[0] == "wgpy.peer.up"]
    assert (data["interface"], data["public_key"], data["description"]) == \
        (ifname, lab.server_public, "exit node")
    assert data["endpoint"] == f"{ENDPOINT}:{SERVER_PORT}" and data["latest_handshake"] > 0

    # The peer leaves the config; a live reload removes it from the device.
    private = next(line.split("'")[1] for line in
                   (lab.tmp_path / "config" / "network").read_text().splitlines()
                   if "private_key" in line)
    write(lab, network_config(ifname, private, ""))
    box.exec(WGPY, "-c", "/etc/config", "reload", ifname)
    wait_for(lambda: any(n == "wgpy.peer.down" for n, _ in events(box)),
             "wgpy.peer.down after the peer was removed", timeout=20)
    [(_, data)] = [e for e in events(box) if e[0] == "wgpy.peer.down"]
    assert (data["interface"], data["public_key"]) == (ifname, lab.server_public)


def test_service_ends_on_sigterm(rig):
    """procd stops a service with SIGTERM: uloop inside python3-ubus must not swallow it."""
    lab, box, ifname, service = rig
    with open(f"/proc/{service}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[-2:] == [b"ubus", b""]  # it is the service, still running
    os.kill(service, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f"/proc/{service}"), "the service to exit", timeout=5)
