"""ubus method handlers as plain functions returning dicts, in OpenWrt's shapes.

- `wireguard` (rpcd-mod-wireguard): status, genkey, genpsk, pubkey; numbers as numbers,
  optional fields left out when zero, peers keyed by public key.
- `luci.wireguard` (luci-proto-wireguard's rpcd plugin): getWgInstances, generateKeyPair,
  generatePsk, getPublicAndPrivateKeyFromPrivate; every value a string as `wg show all dump`
  prints it ("off", "(none)"), peers as a list named by their UCI description.
- `wgpy`: status with UCI descriptions, per-peer ok/stale/never/skipped/error and the config
  errors of interfaces and peers (wgpyd sends wgpy.peer.up/down itself: daemon/events.py).
Handlers read a `Snapshot` (gathered by control.py) and never do I/O themselves.
"""

from collections import OrderedDict

from wgpy import keys
from wgpy.router.resolve import is_stale
from wgpy.runtime.compat import Record
from wgpy.uci.schema import InterfaceConfig

class HandlerError(Exception):
    """Bad arguments. python3-ubus answers any exception from a method with Unknown error
    (status 9) and prints it: it cannot send rpcd-mod-wireguard's Invalid argument."""


class Snapshot(Record):
    """Everything a status handler needs, read once per call. By ifname: devices (uapi
    client.get()), ifindex, configs (InterfaceConfig), skipped (DNS errors), mtu
    (mtu.Choice as a dict)."""
    FIELDS = ("wall_now", "devices", "ifindex", "configs", "config_error", "skipped", "mtu")
    DEFAULTS = {"config_error": None}
    FACTORIES = {"devices": dict, "ifindex": dict, "configs": dict, "skipped": dict,
                 "mtu": dict}


def _description(snap: Snapshot, ifname: str, public_key: str) -> "str | None":
    conf = snap.configs.get(ifname)
    peer = conf.peer(public_key) if conf else None
    return peer.description if peer and peer.description else None


# ---- object `wireguard` (rpcd-mod-wireguard) ----

def wireguard_status(snap: Snapshot) -> dict:
    """`ubus call wireguard status`: {ifname: {ifindex, public_key?, listen_port?, fwmark?,
    peers: {pubkey: {endpoint?, allowed_ips, last_handshake, rx_bytes, tx_bytes,
    persistent_keepalive_interval?}}}}."""
    out = {}
    for ifname, dev in snap.devices.items():
        entry: dict = {"ifindex": snap.ifindex.get(ifname, 0)}
        if dev.get("private_key"):
            entry["public_key"] = keys.public_key(dev["private_key"])
        for key in ("listen_port", "fwmark"):
            if dev.get(key):
                entry[key] = dev[key]
        entry["peers"] = {p["public_key"]: _wireguard_peer(p) for p in dev["peers"]}
        out[ifname] = entry
    return out


def _wireguard_peer(peer: dict) -> dict:
    out: dict = {}
    if peer.get("endpoint"):
        out["endpoint"] = peer["endpoint"]
    out["allowed_ips"] = list(peer.get("allowed_ips", []))
    out["last_handshake"] = peer.get("last_handshake_time_sec", 0)
    out["rx_bytes"] = peer.get("rx_bytes", 0)
    out["tx_bytes"] = peer.get("tx_bytes", 0)
    if peer.get("persistent_keepalive_interval"):
        out["persistent_keepalive_interval"] = peer["persistent_keepalive_interval"]
    return out


def wireguard_genkey() -> dict:
    """`wireguard genkey`: {private, public}."""
    private = keys.generate()
    return {"private": private, "public": keys.public_key(private)}


def wireguard_genpsk() -> dict:
    """`wireguard genpsk`: {preshared}."""
    return {"preshared": keys.generate()}


def wireguard_pubkey(args: dict) -> dict:
    """`wireguard pubkey {private}`: {public}; raises HandlerError on a bad key."""
    public = keys.public_key(args.get("private"))
    if public is None:
        raise HandlerError("private: not a WireGuard key")
    return {"public": public}


# ---- object `luci.wireguard` (luci-proto-wireguard) ----

def luci_get_wg_instances(snap: Snapshot) -> dict:
    """`luci.wireguard getWgInstances`: {ifname: {name, public_key, listen_port, fwmark,
    peers: [{name?, public_key, endpoint, allowed_ips, latest_handshake, transfer_rx,
    transfer_tx, persistent_keepalive}]}}, strings as in `wg show all dump`."""
    out = {}
    for ifname, dev in snap.devices.items():
        fwmark = dev.get("fwmark", 0)
        out[ifname] = {
            "name": ifname,
            "public_key": keys.public_key(dev.get("private_key", "")) or "(none)",
            "listen_port": str(dev.get("listen_port", 0)),
            "fwmark": f"0x{fwmark:x}" if fwmark else "off",
            "peers": [_luci_peer(snap, ifname, p) for p in dev["peers"]],
        }
    return out


def _luci_peer(snap: Snapshot, ifname: str, peer: dict) -> dict:
    out = {}
    name = _description(snap, ifname, peer["public_key"])
    if name is not None:
        out["name"] = name
    keepalive = peer.get("persistent_keepalive_interval", 0)
    out.update({
        "public_key": peer["public_key"],
        "endpoint": peer.get("endpoint") or "(none)",
        "allowed_ips": list(peer.get("allowed_ips", [])),
        "latest_handshake": str(peer.get("last_handshake_time_sec", 0)),
        "transfer_rx": str(peer.get("rx_bytes", 0)),
        "transfer_tx": str(peer.get("tx_bytes", 0)),
        "persistent_keepalive": str(keepalive) if keepalive else "off",
    })
    return out


def luci_generate_key_pair() -> dict:
    """`luci.wireguard generateKeyPair`: {keys: {priv, pub}}."""
    private = keys.generate()
    return {"keys": {"priv": private, "pub": keys.public_key(private)}}


def luci_generate_psk() -> dict:
    """`luci.wireguard generatePsk`: {psk}."""
    return {"psk": keys.generate()}


def luci_public_from_private(args: dict) -> dict:
    """`luci.wireguard getPublicAndPrivateKeyFromPrivate {privkey}`: {keys: {priv, pub}};
    pub is "" for a bad key, as `wg pubkey` failing gives in the ucode plugin."""
    private = args.get("privkey", "")
    return {"keys": {"priv": private, "pub": keys.public_key(private) or ""}}


# ---- object `wgpy` ----

def peer_state(live: "dict | None", wall_now: float) -> str:
    """"ok", "stale" (no handshake for 180 s), "never" or "skipped" (not on the device)."""
    if live is None:
        return "skipped"
    if not live.get("last_handshake_time_sec"):
        return "never"
    return "stale" if is_stale(live, wall_now) else "ok"


def wgpy_status(snap: Snapshot) -> dict:
    """`ubus call wgpy status` and `wgpy status --json`: {interfaces: {ifname: {...}},
    errors: [...]} with UCI descriptions, peer states and config errors."""
    out = {"interfaces": OrderedDict(),  # in file order on MicroPython too
           "errors": [snap.config_error] if snap.config_error else []}
    for ifname, conf in snap.configs.items():
        out["interfaces"][ifname] = _wgpy_interface(snap, conf, snap.devices.get(ifname))
    return out


def _wgpy_interface(snap: Snapshot, conf: InterfaceConfig, dev: "dict | None") -> dict:
    live = {p["public_key"]: p for p in (dev or {}).get("peers", [])}
    skipped = {e["section"]: e for e in snap.skipped.get(conf.name, [])}
    peers = [_wgpy_peer(snap, p, live.get(p.public_key), skipped.get(p.section))
             for p in conf.peers]
    peers += [{"section": e.section, "state": "error", "errors": [e.as_dict()]}
              for e in conf.peer_errors]
    configured = {p.public_key for p in conf.peers}
    peers += [dict(_wgpy_live_fields(p, snap.wall_now), section=None, description="")
              for p in (dev or {}).get("peers", []) if p["public_key"] not in configured]
    return {
        "up": dev is not None,
        "public_key": keys.public_key((dev or {}).get("private_key", "")),
        "listen_port": (dev or {}).get("listen_port"),
        "fwmark": (dev or {}).get("fwmark", 0),
        "addresses": [str(a) for a in conf.addresses],
        "mtu": conf.mtu,
        "mtu_in_use": snap.mtu.get(conf.name),   # {mtu, source, reason}; None when down
        "errors": [e.as_dict() for e in conf.errors],
        "peers": peers,
    }


def _wgpy_live_fields(live: dict, wall_now: float) -> dict:
    handshake = live.get("last_handshake_time_sec", 0)
    return {
        "public_key": live["public_key"],
        "endpoint": live.get("endpoint"),
        "allowed_ips": list(live.get("allowed_ips", [])),
        "latest_handshake": handshake,
        "handshake_age_s": int(wall_now - handshake) if handshake else None,
        "rx_bytes": live.get("rx_bytes", 0),
        "tx_bytes": live.get("tx_bytes", 0),
        "persistent_keepalive": live.get("persistent_keepalive_interval", 0),
        "state": peer_state(live, wall_now),
        "errors": [],
    }


def _wgpy_peer(snap: Snapshot, peer, live: "dict | None", skipped) -> dict:
    if live is not None:
        out = _wgpy_live_fields(live, snap.wall_now)
    else:
        out = {"public_key": peer.public_key, "endpoint": None,
               "allowed_ips": [str(n) for n in peer.allowed_ips], "latest_handshake": 0,
               "handshake_age_s": None, "rx_bytes": 0, "tx_bytes": 0,
               "persistent_keepalive": peer.persistent_keepalive, "state": "skipped",
               "errors": []}
    if skipped is not None:
        out["errors"] = [skipped]
    out.update(section=peer.section, description=peer.description,
               endpoint_host=peer.endpoint_host)
    return out
