"""End to end, as root in namespaces (see routerlab.py for the topology): a UCI config in a
temp dir brings wgpyd up in ns R through `wgpy up`; it reaches wireguard-go in ns S; status,
reload, a whole-LAN tunnel and `wgpy down` behave as the router issue demands."""

import json
import time

import pytest
from routerlab import ENDPOINT, INTERNET, SERVER_PORT
from support.keys import genkey
from support.procs import wait_for

pytestmark = pytest.mark.netns


def network_config(ifname: str, private: str, peers: str, extra: str = "") -> str:
    return (f"\nconfig interface '{ifname}'\n\toption proto 'wgpy'\n"
            f"\toption private_key '{private}'\n\tlist addresses '10.77.0.1/24'\n"
            f"{extra}{peers}")


def server_peer_section(ifname: str, public: str, allowed: str = "10.77.0.2/32",
                        host: str = ENDPOINT, extra: str = "") -> str:
    return (f"\nconfig wireguard_{ifname} 'server'\n\toption description 'exit node'\n"
            f"\toption public_key '{public}'\n\tlist allowed_ips '{allowed}'\n"
            f"\toption endpoint_host '{host}'\n\toption endpoint_port '{SERVER_PORT}'\n"
            f"{extra}")


def write(lab, text: str) -> None:
    (lab.tmp_path / "config" / "network").write_text(text)


def router(lab, lan=False, server_allowed="10.77.0.1/32"):
    """Topology + server; -> (ifname, router private key)."""
    lab.build(lan=lan)
    ifname = lab.ifname()
    private, public = genkey()
    lab.start_server(public, server_allowed)
    return ifname, private


def status(lab) -> dict:
    return json.loads(lab.wgpy(lab.R, "status", "--json").stdout)


def handshake(lab, ifname: str) -> int:
    peer = next(p for p in status(lab)["interfaces"][ifname]["peers"]
                if p["section"] == "server")
    return peer["latest_handshake"]


def test_up_status_reload_down(lab):
    ifname, private = router(lab)
    write(lab, network_config(ifname, private, server_peer_section(ifname, lab.server_public)))
    lab.wgpy(lab.R, "up", ifname)
    assert lab.ok(lab.R, "ping", "-c1", "-W2", "10.77.0.2")
    peer = status(lab)["interfaces"][ifname]["peers"][0]
    assert peer["state"] == "ok" and peer["description"] == "exit node"
    assert peer["endpoint"] == f"{ENDPOINT}:{SERVER_PORT}"
    first = handshake(lab, ifname)
    server_first = lab.server_peer()["handshake"]
    assert first > 0 and server_first > 0

    # A new peer and a changed keepalive on the old one: live, same session.
    _, other = genkey()
    write(lab, network_config(
        ifname, private,
        server_peer_section(ifname, lab.server_public, extra="\toption persistent_keepalive '25'\n")
        + f"\nconfig wireguard_{ifname}\n\toption public_key '{other}'\n"
          "\tlist allowed_ips '10.77.0.3/32'\n"))
    time.sleep(1.1)  # a new handshake would now show a different second
    lab.wgpy(lab.R, "reload", ifname)
    assert lab.ok(lab.R, "ping", "-c1", "-W2", "10.77.0.2")
    live = {p["public_key"]: p for p in status(lab)["interfaces"][ifname]["peers"]}
    assert set(live) == {lab.server_public, other}
    assert live[lab.server_public]["persistent_keepalive"] == 25
    assert handshake(lab, ifname) == first
    assert lab.server_peer()["handshake"] == server_first

    # Removing the new peer again leaves the first session alone too.
    write(lab, network_config(ifname, private, server_peer_section(ifname, lab.server_public)))
    lab.wgpy(lab.R, "reload", "--all")
    assert [p["public_key"] for p in status(lab)["interfaces"][ifname]["peers"]] == \
        [lab.server_public]
    assert handshake(lab, ifname) == first

    conf = lab.wgpy(lab.R, "showconf", ifname).stdout
    assert f"# exit node\n[Peer]\nPublicKey = {lab.server_public}" in conf
    assert f"PrivateKey = {private}" in conf
    text = lab.wgpy(lab.R, "status").stdout
    assert f"interface: {ifname} (up)" in text and "peer: exit node" in text

    lab.wgpy(lab.R, "down", ifname)
    assert not lab.ok(lab.R, "ip", "link", "show", ifname)
    assert status(lab)["interfaces"][ifname]["up"] is False


def test_whole_lan_through_the_tunnel(lab):
    ifname, private = router(lab, lan=True,
                             server_allowed="10.77.0.1/32,192.168.77.0/24")
    write(lab, network_config(ifname, private, server_peer_section(
        ifname, lab.server_public, allowed="0.0.0.0/0",
        extra="\toption route_allowed_ips '1'\n")))
    lab.wgpy(lab.R, "up", ifname)
    routes = lab.run(lab.R, "ip", "route").stdout
    assert f"0.0.0.0/1 dev {ifname}" in routes and f"128.0.0.0/1 dev {ifname}" in routes
    assert f"{ENDPOINT} via 10.66.0.2 dev vRW" in routes
    assert f"dev {ifname}" in lab.run(lab.R, "ip", "route", "get", INTERNET).stdout
    assert "dev vRW" in lab.run(lab.R, "ip", "route", "get", ENDPOINT).stdout

    rx_before = lab.server_peer()["rx"]
    assert lab.ok(lab.L, "ping", "-c2", "-W2", INTERNET)   # LAN -> tunnel -> server
    assert lab.server_peer()["rx"] > rx_before             # ... and it went encrypted
    assert lab.ok(lab.R, "ping", "-c1", "-W2", ENDPOINT)   # the endpoint stays reachable

    lab.wgpy(lab.R, "down", ifname)
    routes = lab.run(lab.R, "ip", "route").stdout
    assert "0.0.0.0/1" not in routes and ENDPOINT not in routes
    assert "10.77.0.1" not in lab.run(lab.R, "ip", "addr").stdout
    assert "dev vRW" in lab.run(lab.R, "ip", "route", "get", INTERNET).stdout


def test_bad_peers_are_skipped_and_dns_is_retried(lab):
    ifname, private = router(lab)
    _, spare = genkey()
    write(lab, network_config(
        ifname, private,
        server_peer_section(ifname, lab.server_public, host="vpn.wgpy.test")
        + f"\nconfig wireguard_{ifname} 'broken'\n\toption public_key '{spare}'\n"
          "\tlist allowed_ips '10.77.0.300/32'\n"))
    lab.hosts(lab.R, "127.0.0.1 localhost\n")
    result = lab.wgpy(lab.R, "up", ifname)
    assert "section 'broken', option 'allowed_ips'" in result.stderr
    assert "section 'server', option 'endpoint_host'" in result.stderr
    peers = {p["section"]: p for p in status(lab)["interfaces"][ifname]["peers"]}
    assert peers["broken"]["state"] == "error" and peers["server"]["state"] == "skipped"
    assert peers["server"]["errors"][0]["option"] == "endpoint_host"

    # The name appears: one watchdog round (`wgpy watchdog`, from cron every minute) adds it.
    lab.hosts(lab.R, f"127.0.0.1 localhost\n{ENDPOINT} vpn.wgpy.test\n")
    lab.python(lab.R, "import json; from wgpy.router import control; "
                      "from wgpy.uci.store import Store; "
                      f"print(json.dumps(control.watchdog_round(Store('{lab.tmp_path}/config'), "
                      "{}, 1000.0)))")
    assert lab.ok(lab.R, "ping", "-c1", "-W2", "10.77.0.2")
    wait_for(lambda: handshake(lab, ifname) > 0, "the handshake")


def test_bad_interface_option_keeps_it_down(lab):
    lab.build()
    ifname = lab.ifname()
    private, _ = genkey()
    text = network_config(ifname, private, "", extra="\toption listen_port '70000'\n")
    write(lab, text)
    result = lab.wgpy(lab.R, "up", ifname, check=False)
    assert result.returncode == 1
    assert f"section '{ifname}', option 'listen_port'" in result.stderr
    assert str(lab.tmp_path / "config" / "network") in result.stderr
    assert not lab.ok(lab.R, "ip", "link", "show", ifname)
    assert (lab.tmp_path / "config" / "network").read_text() == text
