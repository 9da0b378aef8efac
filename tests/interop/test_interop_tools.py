"""The stock wg tools and wg-quick driving wgpyd: showconf, set, setconf, addconf, syncconf
(identical config keeps the session), and wg-quick up/down with
WG_QUICK_USERSPACE_IMPLEMENTATION=wgpyd. (Topology: see conftest.py.)"""

import os
import time

import pytest

from support.pair import config_text, configure, make_pair, ping
from support.keys import genkey
from support.procs import stray_pids, wait_for
from wgpy.uapi.client import SOCKET_DIR

pytestmark = pytest.mark.netns


def test_showconf_set_setconf_addconf_syncconf(lab, runtime):
    a, b = make_pair(lab, "wireguard-go", 4)
    # The daemon really is the runtime's interpreter (the launcher exec'd it).
    interpreter = os.path.basename(os.readlink(f"/proc/{a.proc.pid}/exe"))
    assert interpreter.startswith("micropython" if "micropython" in runtime else "python")
    assert ping(a, b.inner[0])
    showconf = a.wg("showconf", a.ifname).stdout
    assert f"PrivateKey = {a.private}" in showconf and "ListenPort = 51820" in showconf
    assert f"PublicKey = {b.public}" in showconf and "Endpoint = 10.66.0.2:51820" in showconf
    assert f"AllowedIPs = {b.inner[0]}/32, {b.inner[1]}/128" in showconf

    before = a.peer_stats(b)
    conf = lab.tmp_path / "showconf.conf"
    conf.write_text(showconf)
    a.wg("syncconf", a.ifname, str(conf))  # identical: nothing may move
    a.wg("setconf", a.ifname, str(conf))   # replaces peers: a new session is fine
    a.wg("syncconf", a.ifname, str(conf))
    assert ping(a, b.inner[0])
    stable = a.peer_stats(b)
    time.sleep(1.1)  # handshake times have 1 s resolution: a new one would now show
    a.wg("syncconf", a.ifname, str(conf))
    assert ping(a, b.inner[1], count=2)
    after = a.peer_stats(b)
    assert after["handshake"] == stable["handshake"], "syncconf dropped the session"
    assert after["rx"] > stable["rx"] and stable["handshake"] >= before["handshake"]

    a.wg("set", a.ifname, "fwmark", "0x1234", "peer", b.public, "persistent-keepalive", "7",
         "allowed-ips", f"{b.inner[0]}/32,10.99.0.0/16,{b.inner[1]}/128")
    a.wg("set", a.ifname, "listen-port", "51820")  # identical port: no rebind, session kept
    stats = a.peer_stats(b)
    assert stats["keepalive"] == "7" and "10.99.0.0/16" in stats["allowed_ips"]
    assert a.dump()["interface"][3] == "0x1234"
    assert ping(a, b.inner[0])

    add = lab.tmp_path / "add.conf"
    add.write_text(f"[Peer]\nPublicKey = {genkey()[1]}\nAllowedIPs = 10.98.0.0/16\n")
    a.wg("addconf", a.ifname, str(add))
    assert len(a.dump()["peers"]) == 2
    a.wg("syncconf", a.ifname, str(conf))  # drops the added peer and the extra prefix
    dump = a.dump()
    assert list(dump["peers"]) == [b.public]
    assert dump["peers"][b.public]["allowed_ips"] == f"{b.inner[0]}/32,{b.inner[1]}/128"
    assert a.wg("set", a.ifname, "peer", "not-a-key", check=False).returncode != 0
    assert ping(a, b.inner[0])


def test_wg_quick_up_and_down(lab):
    ns_a, ns_b = lab.netns("A"), lab.netns("B")
    lab.link(ns_a, ns_b)
    a, b = lab.node(ns_a, "A", "wgpyd"), lab.node(ns_b, "B", "wireguard-go")
    lab.start(b)
    configure(b, a, 4)
    path = lab.tmp_path / f"{a.ifname}.conf"
    path.write_text(config_text(a, b, 4).replace(
        "[Interface]\n", f"[Interface]\nAddress = {a.inner[0]}/24, {a.inner[1]}/64\n"))
    env = dict(os.environ, WG_QUICK_USERSPACE_IMPLEMENTATION=lab.wgpyd, LOG_LEVEL="verbose")
    up = ns_a.run("wg-quick", "up", str(path), env=env, check=False)
    assert up.returncode == 0, up.stderr
    daemons = stray_pids([a.ifname])
    assert len(daemons) == 1
    assert ping(a, b.inner[0]) and ping(a, b.inner[1])
    assert a.peer_stats(b)["handshake"] > 0

    down = ns_a.run("wg-quick", "down", str(path), env=env, check=False)
    assert down.returncode == 0, down.stderr
    wait_for(lambda: not stray_pids([a.ifname]), "wgpyd to exit after ip link del", 5)
    assert not os.path.exists(f"{SOCKET_DIR}/{a.ifname}.sock")
    assert not ns_a.ok("ip", "link", "show", a.ifname)


def test_daemon_mode_exits_when_socket_removed(lab):
    ns = lab.netns("A")
    ifname = lab.ifname()
    started = ns.run(lab.wgpyd, ifname)  # returns once it is ready
    assert started.returncode == 0
    assert os.path.exists(f"{SOCKET_DIR}/{ifname}.sock") and ns.ok("ip", "link", "show", ifname)
    assert ns.run("wg", "show", ifname, "listen-port").stdout.strip().isdigit()
    os.unlink(f"{SOCKET_DIR}/{ifname}.sock")
    wait_for(lambda: not stray_pids([ifname]), "wgpyd to exit after its socket went", 5)
    assert not ns.ok("ip", "link", "show", ifname)
