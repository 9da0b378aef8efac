"""From a typed interface config and the live device to one UAPI `set=1` request.

Like `wg syncconf`, never `replace_peers`: peers gone from the config are removed one by one,
new ones added, changed ones updated in place with only the keys that differ, and unchanged
peers are not mentioned, so their sessions survive. A peer whose endpoint name does not
resolve is skipped (left as it is if already running) and reported with its UCI location.
Pure: the resolver is an argument and the caller sends the lines (wgpy.uapi.client).
"""


from wgpy.router import resolve
from wgpy.runtime.compat import Record, ipaddress
from wgpy.uapi.client import b64_to_hex
from wgpy.uci.schema import ConfigError, InterfaceConfig, PeerConfig

_ZERO_KEY_B64 = "A" * 43 + "="


class Plan(Record):
    """endpoints: public key -> ip:port; skipped: ConfigErrors of DNS failures, retried later."""
    FIELDS = ("lines", "endpoints", "skipped", "removed", "added", "updated")
    FACTORIES = {"lines": list, "endpoints": dict, "skipped": list, "removed": list,
                 "added": list, "updated": list}

    def active(self, conf: InterfaceConfig) -> list[PeerConfig]:
        """The configured peers that are on the device after this plan."""
        return [p for p in conf.peers if p.public_key in self.endpoints]


def _networks(texts) -> set:
    return {ipaddress.ip_network(t, strict=False) for t in texts}


def _interface_lines(conf: InterfaceConfig, device: dict) -> list[str]:
    lines = []
    if conf.private_key and device.get("private_key") != conf.private_key:
        lines.append(f"private_key={b64_to_hex(conf.private_key)}")
    if conf.listen_port is not None and device.get("listen_port", 0) != conf.listen_port:
        lines.append(f"listen_port={conf.listen_port}")
    if device.get("fwmark", 0) != conf.fwmark:
        lines.append(f"fwmark={conf.fwmark}")
    return lines


def peer_lines(peer: PeerConfig, endpoint: "str | None", live: "dict | None") -> list[str]:
    """The lines that make the device's peer (`live`, None if absent) match `peer`; [] if
    nothing differs."""
    live = live or {}
    body = []
    live_psk = live.get("preshared_key")
    if (peer.preshared_key or None) != (None if live_psk == _ZERO_KEY_B64 else live_psk):
        body.append("preshared_key=" + (b64_to_hex(peer.preshared_key)
                                        if peer.preshared_key else "0" * 64))
    if endpoint is not None and live.get("endpoint") != endpoint:
        body.append(f"endpoint={endpoint}")
    if live.get("persistent_keepalive_interval", 0) != peer.persistent_keepalive:
        body.append(f"persistent_keepalive_interval={peer.persistent_keepalive}")
    if _networks(live.get("allowed_ips", [])) != set(peer.allowed_ips):
        body.append("replace_allowed_ips=true")
        body.extend(f"allowed_ip={net}" for net in peer.allowed_ips)
    if not body and live:
        return []
    return [f"public_key={b64_to_hex(peer.public_key)}"] + body


def plan(conf: InterfaceConfig, device: dict,
         resolver: resolve.Resolver = resolve.system_resolver) -> Plan:
    """The request that brings `device` (a uapi.client.get result) in line with `conf`."""
    result = Plan(lines=_interface_lines(conf, device))
    live = {p["public_key"]: p for p in device.get("peers", [])}
    configured = {p.public_key for p in conf.peers}
    for public_key in live:
        if public_key not in configured:
            result.lines += [f"public_key={b64_to_hex(public_key)}", "remove=true"]
            result.removed.append(public_key)
    for peer in conf.peers:
        _plan_peer(conf, peer, live.get(peer.public_key), resolver, result)
    return result


def _plan_peer(conf: InterfaceConfig, peer: PeerConfig, live: "dict | None",
               resolver: resolve.Resolver, result: Plan) -> None:
    try:
        endpoint = resolve.endpoint(peer, resolver)
    except resolve.ResolveError as exc:
        result.skipped.append(ConfigError(conf.path, peer.section, "endpoint_host",
                                          f"{exc}; peer skipped, will retry"))
        if live is not None:  # keep a running peer as it is rather than cut it off
            result.endpoints[peer.public_key] = live.get("endpoint")
        return
    lines = peer_lines(peer, endpoint, live)
    result.lines += lines
    result.endpoints[peer.public_key] = endpoint or (live or {}).get("endpoint")
    if lines:
        (result.updated if live is not None else result.added).append(peer.public_key)

