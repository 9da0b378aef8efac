"""The pure router logic without daemons: the syncconf-like plan, endpoint resolution and the
watchdog's choice, route planning, the key handlers and the peer up/down events."""

import base64
import ipaddress

from support.keys import genkey

from wgpy.keys import is_key
from wgpy.router import handlers, netconf, resolve, syncconf
from wgpy.uapi.client import b64_to_hex, parse_get
from wgpy.uci import schema, syntax

PRIVATE, _ = genkey()
_, A = genkey()
_, B = genkey()
_, C = genkey()


def conf(peers: str, extra: str = "") -> schema.InterfaceConfig:
    text = (f"config interface 'wg0'\n\toption proto 'wgpy'\n\toption private_key '{PRIVATE}'\n"
            f"{extra}{peers}")
    return schema.interfaces(syntax.parse(text, "network"), "/c/network")["wg0"]


def peer(name, public, allowed="10.0.0.2/32", extra=""):
    return (f"config wireguard_wg0 '{name}'\n\toption public_key '{public}'\n"
            f"\tlist allowed_ips '{allowed}'\n{extra}")


def device(*peers) -> dict:
    return {"private_key": PRIVATE, "listen_port": 40000, "peers": list(peers)}


def live(public, allowed=("10.0.0.2/32",), endpoint=None, keepalive=0, handshake=0):
    out = {"public_key": public, "allowed_ips": list(allowed), "preshared_key": "A" * 43 + "=",
           "persistent_keepalive_interval": keepalive, "last_handshake_time_sec": handshake,
           "rx_bytes": 1, "tx_bytes": 2}
    if endpoint:
        out["endpoint"] = endpoint
    return out


def no_dns(host, port):
    raise resolve.ResolveError(f"cannot resolve '{host}'")


# ---- syncconf.plan ----

def test_first_plan_sets_everything():
    c = conf(peer("a", A, extra="\toption endpoint_host '192.0.2.1'\n"
                               "\toption persistent_keepalive '25'\n"))
    p = syncconf.plan(c, {"listen_port": 40000, "peers": []})
    assert p.lines == [f"private_key={b64_to_hex(PRIVATE)}", f"public_key={b64_to_hex(A)}",
                       "endpoint=192.0.2.1:51820", "persistent_keepalive_interval=25",
                       "replace_allowed_ips=true", "allowed_ip=10.0.0.2/32"]
    assert p.added == [A]


def test_plan_like_syncconf_never_replaces_peers():
    c = conf(peer("a", A) + peer("b", B, "10.0.0.3/32", "\toption persistent_keepalive '5'\n"))
    p = syncconf.plan(c, device(live(A), live(B, ("10.0.0.3/32",)), live(C)))
    assert "replace_peers=true" not in p.lines
    assert p.lines == [f"public_key={b64_to_hex(C)}", "remove=true",
                       f"public_key={b64_to_hex(B)}", "persistent_keepalive_interval=5"]
    assert (p.removed, p.updated, p.added) == ([C], [B], [])


def test_unchanged_config_gives_an_empty_plan():
    c = conf(peer("a", A, extra="\toption endpoint_host '192.0.2.1'\n"))
    assert syncconf.plan(c, device(live(A, endpoint="192.0.2.1:51820"))).lines == []


def test_unresolvable_peer_is_skipped_and_a_running_one_kept():
    c = conf(peer("a", A, extra="\toption endpoint_host 'x.invalid'\n")
             + peer("b", B, "10.9.0.0/16"))
    fresh = syncconf.plan(c, device(), no_dns)
    [error] = fresh.skipped
    assert (error.section, error.option) == ("a", "endpoint_host")
    assert fresh.added == [B] and [p.section for p in fresh.active(c)] == ["b"]
    running = syncconf.plan(c, device(live(A, endpoint="192.0.2.7:51820")), no_dns)
    assert A not in running.removed and A in running.endpoints


def test_parse_get():
    lines = ["private_key=" + "11" * 32, "listen_port=51820", "public_key=" + "22" * 32,
             "endpoint=[fd00::1]:51820", "allowed_ip=10.0.0.2/32", "allowed_ip=fd00::2/128",
             "last_handshake_time_sec=7", "rx_bytes=9", "errno=0", ""]
    dev = parse_get(lines)
    assert dev["listen_port"] == 51820
    assert dev["private_key"] == base64.b64encode(bytes([0x11] * 32)).decode()
    [p] = dev["peers"]
    assert p["allowed_ips"] == ["10.0.0.2/32", "fd00::2/128"] and p["rx_bytes"] == 9


# ---- resolve ----

def test_endpoint_formats_and_watchdog_choice():
    c = conf(peer("name", A, extra="\toption endpoint_host 'vpn.example'\n")
             + peer("literal", B, "10.0.0.3/32", "\toption endpoint_host 'fd00::1'\n"))
    name, literal = c.peers
    assert resolve.endpoint(literal) == "[fd00::1]:51820"
    assert resolve.endpoint(name, lambda h, p: f"192.0.2.5:{p}") == "192.0.2.5:51820"
    attempts = {}
    now_wall = 10_000.0
    fresh = {A: live(A, handshake=int(now_wall) - 10)}
    assert resolve.due_for_reresolve(c.peers, fresh, now_wall, attempts, "wg0", 0.0) == []
    stale = {A: live(A, handshake=int(now_wall) - 200)}
    assert resolve.due_for_reresolve(c.peers, stale, now_wall, attempts, "wg0", 0.0) == [name]
    # ... not again within RETRY_INTERVAL_S, then again; a missing peer is due as well
    assert resolve.due_for_reresolve(c.peers, stale, now_wall, attempts, "wg0", 10.0) == []
    assert resolve.due_for_reresolve(c.peers, {}, now_wall, attempts, "wg0", 31.0) == [name]


# ---- netconf planning ----

def test_routes_split_default_and_host_routes_only_where_needed():
    c = conf(peer("a", A, "0.0.0.0/0", "\toption route_allowed_ips '1'\n")
             + peer("b", B, "::/0"))
    routed = netconf.routed_networks(c.peers)
    assert [str(n) for n in routed] == ["0.0.0.0/1", "128.0.0.0/1"]
    assert netconf.host_route_targets(c, ["192.0.2.1:51820", "[fd00::1]:1"], routed) == \
        ["192.0.2.1/32"]
    assert netconf.host_route_targets(conf("", "\toption nohostroute '1'\n"),
                                      ["192.0.2.1:51820"], routed) == []


def test_best_route_skips_our_device_and_prefers_longest_then_metric():
    table = [{"dst": "default", "gateway": "10.0.0.1", "dev": "wan", "metric": 10},
             {"dst": "default", "gateway": "10.0.1.1", "dev": "wan2", "metric": 5},
             {"dst": "0.0.0.0/1", "dev": "wg0"},
             {"dst": "192.0.2.0/24", "dev": "lan", "protocol": "kernel"}]
    assert netconf.best_route("198.51.100.1/32", table, "wg0") == {"gateway": "10.0.1.1",
                                                                   "dev": "wan2"}
    assert netconf.best_route("192.0.2.9/32", table, "wg0") == {"dev": "lan"}
    assert netconf.best_route("fd00::1/128", [{"dst": "fd00::/64", "dev": "wg0"}], "wg0") is None


# ---- handlers without a daemon ----

def test_key_handlers_have_openwrt_shapes():
    keys = handlers.wireguard_genkey()
    assert set(keys) == {"private", "public"} and all(map(is_key, keys.values()))
    assert handlers.wireguard_pubkey({"private": keys["private"]}) == {"public": keys["public"]}
    assert set(handlers.wireguard_genpsk()) == {"preshared"}
    pair = handlers.luci_generate_key_pair()
    assert set(pair) == {"keys"} and set(pair["keys"]) == {"priv", "pub"}
    assert handlers.luci_public_from_private({"privkey": keys["private"]}) == \
        {"keys": {"priv": keys["private"], "pub": keys["public"]}}
    assert handlers.luci_public_from_private({"privkey": "junk"})["keys"]["pub"] == ""
    assert is_key(handlers.luci_generate_psk()["psk"])
    try:
        handlers.wireguard_pubkey({"private": "junk"})
    except handlers.HandlerError:
        pass
    else:
        raise AssertionError("a bad key must be refused")


def test_wgpy_status_reports_errors_and_skipped_peers():
    c = conf(peer("a", A) + peer("dns", B, "10.0.0.3/32", "\toption endpoint_host 'x.y'\n")
             + peer("bad", C, "300.0.0.0/8"), "\toption mtu '1280'\n")
    snap = handlers.Snapshot(wall_now=1.0, devices={"wg0": device(live(A))}, configs={"wg0": c},
                             skipped={"wg0": [{"section": "dns", "option": "endpoint_host",
                                               "message": "cannot resolve"}]})
    iface = handlers.wgpy_status(snap)["interfaces"]["wg0"]
    states = {p["section"]: (p["state"], [e["option"] for e in p["errors"]])
              for p in iface["peers"]}
    assert states == {"a": ("never", []), "dns": ("skipped", ["endpoint_host"]),
                      "bad": ("error", ["allowed_ips"])}
    assert iface["up"] and iface["mtu"] == 1280 and ipaddress.ip_address("10.0.0.1")
