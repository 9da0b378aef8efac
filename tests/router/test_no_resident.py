"""Nothing of wgpy but wgpyd stays resident on the router (owrtlab.py: the real netifd and
ubusd, wgpy's proto handler, its iface hotplug script and its first-boot crontab entry),
and the features the old `wgpy ubus` service had still work:

- wgpyd sends wgpy.peer.up/down itself: the real `ubus listen` sees them;
- the endpoint watchdog, run as the crontab line wgpy.defaults installs, re-resolves a host
  name whose address changed (the router's /etc/hosts here: no DNS, no real network) and
  the tunnel handshakes at the new address, through the whole-LAN routes;
- the automatic MTU follows a WAN that netifd brings back with another MTU, through
  /etc/hotplug.d/iface.

One router for the module; the tests run in order and each leaves it as the next expects.
"""

import json
import os

import pytest
from owrtlab import NETWORK, OwrtLab, _bash, owrt, wait_ready, wgpy_interface
from routerlab import ENDPOINT, SERVER_PORT, genkey, wait_for

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(owrt.skip_reason() is not None,
                                 reason=str(owrt.skip_reason()))]

FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "package",
                     "wgpy", "files")
HOST = "vpn.wgpy.test"
NOWHERE = "10.55.0.9"   # routed to S, which owns no such address and does not forward
EVENTS = ("wgpy.peer.up", "wgpy.peer.down")


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """Router R with wgpy's hotplug script and an event listener; interface wgrN up under
    netifd, its peer's host name resolving to NOWHERE (so no handshake yet)."""
    tmp = tmp_path_factory.mktemp("no-resident")
    lab = OwrtLab(tmp)
    (tmp / "config").mkdir()
    try:
        lab.build(lan=True)
        ifname = lab.ifname()
        private, public = genkey()
        lab.start_server(public, "10.77.0.1/32, 192.168.77.0/24")
        (tmp / "config" / "network").write_text(
            NETWORK + wgpy_interface(ifname, private, lab.server_public).replace(
                f"endpoint_host '{ENDPOINT}'", f"endpoint_host '{HOST}'"))
        hosts = tmp / "hosts"
        hosts.write_text(f"127.0.0.1 localhost\n{NOWHERE} {HOST}\n")
        for dev in ("vRL", "vRW"):
            lab.run(lab.R, "ip", "addr", "flush", "dev", dev)
        lab.start_router(f"--bind {os.path.abspath(FILES)}/wgpy.hotplug:/etc/hotplug.d/iface/"
                         f"90-wgpy --bind {hosts}:/etc/hosts")
        _bash(f"owrt_router_spawn {lab.R} events ubus listen {' '.join(EVENTS)}")
        wait_for(lambda: lab.iface_status(ifname).get("up"), "netifd brings the tunnel up",
                 timeout=30)
        yield lab, ifname, hosts
    finally:
        lab.close()


def events(lab) -> list:
    """(name, data) of each event `ubus listen` printed so far."""
    path = _bash(f"owrt_router_log {lab.R} events").stdout.strip()
    with open(path) as f:
        return [next(iter(json.loads(line).items())) for line in f if line.startswith("{")]


def handshake(lab, ifname) -> int:
    """The peer's latest handshake, 0 for none (or while netifd sets the interface up)."""
    out = lab.rx("wg", "show", ifname, "latest-handshakes", check=False).stdout.split()
    return int(out[1]) if len(out) == 2 else 0


def test_only_wgpyd_stays_after_ifup(rig):
    lab, ifname, _ = rig
    wgpyd = lab.wgpyd_pid(ifname)
    assert wgpyd
    # the setup's `wgpy up --netifd` has finished once netifd says up; allow it to exit
    wait_for(lambda: list(lab.wgpy_processes()) == [wgpyd], "wgpyd alone", timeout=10)
    assert handshake(lab, ifname) == 0 and events(lab) == []   # NOWHERE never answers


def test_cron_watchdog_follows_the_changed_host_name(rig):
    lab, ifname, hosts = rig
    lab.rx("sh", f"{FILES}/wgpy.defaults")     # the first-boot script adds the crontab line
    [line] = [x for x in lab.rx("cat", "/etc/crontabs/root").stdout.splitlines()
              if "wgpy" in x]
    assert line.split(None, 5)[:5] == ["*"] * 5
    hosts.write_text(f"127.0.0.1 localhost\n{ENDPOINT} {HOST}\n")  # same inode: the bind
    lab.rx("sh", "-c", line.split(None, 5)[5])   # what crond runs, once
    wait_for(lambda: handshake(lab, ifname) > 0, "the handshake at the new address", timeout=15)
    peer = lab.rx("wg", "show", ifname, "endpoints").stdout.split()
    assert peer == [lab.server_public, f"{ENDPOINT}:{SERVER_PORT}"]
    wait_ready(lab, ifname)   # the LAN crosses: the new endpoint is not routed into the tunnel
    assert list(lab.wgpy_processes()) == [lab.wgpyd_pid(ifname)]


def test_wgpyd_sends_peer_up_and_down(rig):
    lab, ifname, _ = rig
    wait_for(lambda: [n for n, _ in events(lab)] == ["wgpy.peer.up"], "wgpy.peer.up",
             timeout=10)
    [(_, data)] = events(lab)
    assert data == {"interface": ifname, "public_key": lab.server_public,
                    "endpoint": f"{ENDPOINT}:{SERVER_PORT}",
                    "latest_handshake": handshake(lab, ifname)}
    network = lab.tmp_path / "config" / "network"
    with_peer = network.read_text()
    network.write_text(with_peer.split(f"\nconfig wireguard_{ifname}")[0])
    lab.rx("wgpy", "reload", ifname)
    wait_for(lambda: len(events(lab)) == 2, "wgpy.peer.down", timeout=10)
    name, data = events(lab)[1]
    assert (name, data["interface"], data["public_key"]) == \
        ("wgpy.peer.down", ifname, lab.server_public)
    network.write_text(with_peer)
    lab.rx("wgpy", "reload", ifname)
    wait_for(lambda: [n for n, _ in events(lab)][2:] == ["wgpy.peer.up"], "up again",
             timeout=15)


def test_mtu_follows_the_wan_through_hotplug(rig):
    """The WAN's MTU changes while it stays up (as a DHCP renewal can: the lease's MTU
    set on the link, then netifd's `ifupdate`): the iface hotplug runs `wgpy mtu`, and
    the tunnel's automatic MTU follows without a restart."""
    lab, ifname, _ = rig
    wait_ready(lab, ifname)
    assert "mtu 1392 " in lab.rx("ip", "link", "show", "dev", ifname).stdout
    pid = lab.wgpyd_pid(ifname)
    lab.rx("ip", "link", "set", "dev", "vRW", "mtu", "1400")
    # netifd's `ifupdate` as a renewed lease makes it (no DHCP server here): new data
    lab.rx("ubus", "call", "network.interface.wan", "set_data", '{"lease_mtu": 1400}')
    wait_for(lambda: "mtu 1328 " in lab.rx("ip", "link", "show", "dev", ifname).stdout,
             "the tunnel's MTU: 1400 - 60, rounded down to 16", timeout=15)
    status = json.loads(lab.rx("wgpy", "status", "--json").stdout)
    assert status["interfaces"][ifname]["mtu_in_use"]["mtu"] == 1328
    hotplug = lab.rx("cat", "/var/run/owrt/hotplug.log").stdout
    assert "iface ACTION=ifupdate INTERFACE=wan" in hotplug
    assert lab.wgpyd_pid(ifname) == pid     # followed in place, not by a restart
    wait_ready(lab, ifname)
    wait_for(lambda: list(lab.wgpy_processes()) == [pid], "the hotplug's `wgpy mtu` gone")
