"""The ubus handlers against a LIVE wgpyd with a completed handshake, checked against the
documented shapes: rpcd-mod-wireguard's `wireguard status` (numbers, optional fields left out
when zero) and luci-proto-wireguard's `getWgInstances` (strings exactly as `wg show all
dump` prints them, which the stock wg tool gives us over the same UAPI socket)."""

import pytest
from routerlab import ENDPOINT, SERVER_PORT
from test_end_to_end import network_config, router, server_peer_section, write

pytestmark = pytest.mark.netns

GATHER = ("import json, time; from wgpy.router import control, handlers; "
          "from wgpy.uci.store import Store; "
          "s = control.gather(Store('{confdir}')); "
          "print(json.dumps({{'wireguard': handlers.wireguard_status(s), "
          "'luci': handlers.luci_get_wg_instances(s), 'wgpy': handlers.wgpy_status(s), "
          "'now': time.time()}}))")


def test_handler_shapes_with_a_live_handshake(lab):
    ifname, private = router(lab)
    write(lab, network_config(ifname, private, server_peer_section(ifname, lab.server_public),
                              extra="\toption listen_port '51999'\n"))
    lab.wgpy(lab.R, "up", ifname)
    assert lab.ok(lab.R, "ping", "-c1", "-W2", "10.77.0.2")
    out = lab.python(lab.R, GATHER.format(confdir=lab.tmp_path / "config"))
    check_wireguard_status(out["wireguard"][ifname], lab, ifname, out["now"])
    check_luci(out["luci"][ifname], lab, ifname)
    check_wgpy(out["wgpy"]["interfaces"][ifname], lab)


def check_wireguard_status(dev, lab, ifname, now):
    ifindex = int(lab.run(lab.R, "cat", f"/sys/class/net/{ifname}/ifindex").stdout)
    assert isinstance(dev["ifindex"], int) and dev["ifindex"] == ifindex
    assert isinstance(dev["public_key"], str) and len(dev["public_key"]) == 44
    assert dev["listen_port"] == 51999
    assert "fwmark" not in dev  # left out when zero, as rpcd-mod-wireguard does
    peer = dev["peers"][lab.server_public]
    assert set(peer) == {"endpoint", "allowed_ips", "last_handshake", "rx_bytes", "tx_bytes"}
    assert peer["endpoint"] == f"{ENDPOINT}:{SERVER_PORT}"
    assert peer["allowed_ips"] == ["10.77.0.2/32"]
    assert isinstance(peer["last_handshake"], int) and abs(peer["last_handshake"] - now) < 30
    assert isinstance(peer["rx_bytes"], int) and peer["rx_bytes"] > 0
    assert isinstance(peer["tx_bytes"], int) and peer["tx_bytes"] > 0


def check_luci(instance, lab, ifname):
    dump = lab.run(lab.R, "wg", "show", ifname, "dump").stdout.strip().split("\n")
    _, public, port, fwmark = dump[0].split("\t")
    assert instance["name"] == ifname
    assert (instance["public_key"], instance["listen_port"], instance["fwmark"]) == \
        (public, port, fwmark)
    [peer] = instance["peers"]
    key, _, endpoint, ips, handshake, rx, tx, keepalive = dump[1].split("\t")
    # Counters may move between the two reads; everything else must match the dump exactly.
    assert peer["name"] == "exit node"
    assert (peer["public_key"], peer["endpoint"], peer["allowed_ips"],
            peer["latest_handshake"], peer["persistent_keepalive"]) == \
        (key, endpoint, ips.split(","), handshake, keepalive)
    assert all(isinstance(peer[k], str) and peer[k].isdigit()
               for k in ("transfer_rx", "transfer_tx", "latest_handshake"))


def check_wgpy(iface, lab):
    assert iface["up"] is True and iface["errors"] == [] and iface["listen_port"] == 51999
    [peer] = iface["peers"]
    assert (peer["section"], peer["description"], peer["state"]) == ("server", "exit node", "ok")
    assert peer["handshake_age_s"] is not None and peer["handshake_age_s"] < 30
