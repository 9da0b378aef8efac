"""The UAPI text protocol (what `wg` speaks), as pure functions over a Device.

`parse_set` turns the body of a `set=1` request into a typed `SetRequest` or raises
`UapiError` carrying the negative errno wireguard-go would answer. `execute_set` then applies
it in wireguard-go's order; the only step that can still fail (binding a new listen port or
fwmark, done through the caller's `Network`) runs first, so a failed request changes nothing.
`render_get` produces the `get=1` answer. No sockets, clocks or logging live here: the
daemon passes `now` and does the I/O (see `wgpy.uapi.server` and `wgpy.daemon.loop`).
"""

import string

from wgpy.runtime.compat import Record, ipaddress

# Linux errno values, negated on the wire as wireguard-go does (`wg` parses signed values).
EIO = 5
EINVAL = 22
ENOANO = 55
EPROTO = 71
EADDRINUSE = 98

KEY_HEX_LEN = 64
_HEX = frozenset(string.hexdigits)
_ZERO_KEY = bytes(32)


class UapiError(Exception):
    """A request wireguard-go would refuse; `errno` is the positive Linux value."""

    def __init__(self, errno: int, message: str) -> None:
        super().__init__(message)
        self.errno = errno


# ---- typed operations ----

class SetPrivateKey(Record):
    FIELDS = ("key",)   # None clears it (all-zero hex on the wire)


class SetListenPort(Record):
    FIELDS = ("port",)


class SetFwmark(Record):
    FIELDS = ("mark",)


class ReplacePeers(Record):
    pass


class UpdateOnly(Record):
    pass


class RemovePeer(Record):
    pass


class SetPresharedKey(Record):
    FIELDS = ("key",)   # None removes it


class SetEndpoint(Record):
    FIELDS = ("endpoint",)      # (host, port)


class SetKeepalive(Record):
    FIELDS = ("seconds",)


class ReplaceAllowedIps(Record):
    pass


class AddAllowedIp(Record):
    FIELDS = ("network",)       # an ipaddress IPv4Network or IPv6Network


class RemoveAllowedIp(Record):
    FIELDS = ("network",)


class PeerSection(Record):
    """One peer's public key and its ops (UpdateOnly ... RemoveAllowedIp), in order."""
    FIELDS = ("public_key", "ops")

    def __init__(self, public_key: bytes, ops=None):
        super().__init__(public_key, [] if ops is None else ops)


class SetRequest(Record):
    """The device's ops (SetPrivateKey ... ReplacePeers), then the peer sections."""
    FIELDS = ("device_ops", "peers")

    def __init__(self, device_ops=None, peers=None):
        super().__init__([] if device_ops is None else device_ops, [] if peers is None else peers)


class Network:
    """What execute_set needs from the daemon's UDP side (any object with rebind)."""

    def rebind(self, listen_port: int, fwmark: int) -> int:
        """Bind (port, mark) all-or-nothing; return the real port; raise OSError on failure."""
        raise NotImplementedError


# ---- value parsers (each raises UapiError(EINVAL)) ----

def _invalid(what: str, value: str) -> UapiError:
    return UapiError(EINVAL, f"invalid {what}: {value!r}")


def parse_key(value: str, what: str = "key") -> bytes:
    """64 hex digits (either case) -> 32 bytes."""
    if len(value) != KEY_HEX_LEN or not _HEX.issuperset(value):
        raise UapiError(EINVAL, f"invalid {what}")  # no value: it may be a secret
    return bytes.fromhex(value)


def _maybe_zero_key(value: str, what: str) -> "bytes | None":
    key = parse_key(value, what)
    return None if key == _ZERO_KEY else key


def clamp_private_key(key: bytes) -> bytes:
    """Curve25519 clamping, as wireguard-go applies to a private key it is given."""
    clamped = bytearray(key)
    clamped[0] &= 248
    clamped[31] = (clamped[31] & 127) | 64
    return bytes(clamped)


def _is_decimal(value: str) -> bool:
    """Only ASCII digits, at least one (str.isdigit also takes other scripts' digits)."""
    return bool(value) and all("0" <= c <= "9" for c in value)


def parse_uint(value: str, bits: int, what: str) -> int:
    """Decimal digits only, as Go's ParseUint(value, 10, bits)."""
    digits = value.lstrip("0") or "0"
    # Why the length check first: int() refuses strings over 4,300 digits with ValueError.
    if not _is_decimal(value) or len(digits) > 20 or int(digits) >> bits:
        raise _invalid(what, value[:40])
    return int(digits)


def _parse_true(value: str, what: str) -> None:
    if value != "true":
        raise _invalid(what, value)


def parse_endpoint(value: str) -> tuple:
    """`a.b.c.d:port` or `[v6]:port`, numeric only -> (host, port)."""
    host, sep, port_text = value.rpartition(":")
    if not sep:
        raise _invalid("endpoint", value)
    bracketed = host.startswith("[") and host.endswith("]")
    if bracketed:
        host = host[1:-1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise _invalid("endpoint", value) from None
    if address.version == 6 and not bracketed or address.version == 4 and bracketed:
        raise _invalid("endpoint", value)
    port = parse_uint(port_text, 16, "endpoint port")
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # our IPv6 socket is V6ONLY; send such peers over IPv4
    return str(address), port


def parse_prefix(value: str):
    """`address/len` (host bits masked, as wireguard-go's allowedips does)."""
    address, sep, length = value.partition("/")
    if not sep or "%" in address or not _is_decimal(length):
        raise _invalid("allowed_ip", value)
    try:
        return ipaddress.ip_network(f"{address}/{int(length)}", strict=False)
    except ValueError:
        raise _invalid("allowed_ip", value) from None


# ---- set: parse everything, then apply ----

def _parse_device_line(key: str, value: str):
    if key == "private_key":
        key = _maybe_zero_key(value, "private_key")
        return SetPrivateKey(None if key is None else clamp_private_key(key))
    if key == "listen_port":
        return SetListenPort(parse_uint(value, 16, "listen_port"))
    if key == "fwmark":
        return SetFwmark(parse_uint(value, 32, "fwmark"))
    if key == "replace_peers":
        _parse_true(value, "replace_peers")
        return ReplacePeers()
    raise UapiError(EINVAL, f"invalid UAPI device key: {key!r}")


def _parse_peer_line(key: str, value: str):
    """One peer line -> op; None for lines that are accepted but do nothing."""
    if key in ("update_only", "remove", "replace_allowed_ips"):
        _parse_true(value, key)
        return {"update_only": UpdateOnly, "remove": RemovePeer,
                "replace_allowed_ips": ReplaceAllowedIps}[key]()
    if key == "preshared_key":
        return SetPresharedKey(_maybe_zero_key(value, "preshared_key"))
    if key == "endpoint":
        return SetEndpoint(parse_endpoint(value))
    if key == "persistent_keepalive_interval":
        return SetKeepalive(parse_uint(value, 16, key))
    if key == "allowed_ip":
        if value.startswith("-"):
            return RemoveAllowedIp(parse_prefix(value[1:]))
        return AddAllowedIp(parse_prefix(value))
    if key == "protocol_version":
        if value != "1":
            raise _invalid("protocol_version", value)
        return None
    raise UapiError(EINVAL, f"invalid UAPI peer key: {key!r}")


def parse_set(lines: list) -> SetRequest:
    """Parse the body of a set=1 request (lines without newlines, no blank line)."""
    request = SetRequest()
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep:
            raise UapiError(EPROTO, "line without '='")
        if key == "public_key":
            request.peers.append(PeerSection(parse_key(value, "public_key")))
        elif not request.peers:
            request.device_ops.append(_parse_device_line(key, value))
        else:
            op = _parse_peer_line(key, value)
            if op is not None:
                request.peers[-1].ops.append(op)
    return request


def _wanted_port_and_mark(dev, ops: list) -> tuple:
    """The (listen_port, fwmark) the request asks for, current values where unnamed."""
    port, mark = dev.listen_port, dev.fwmark
    for op in ops:
        # listen_port=0 means "any port": keep the one we hold instead of rebinding
        # (setconf/syncconf resend it on every reload; a rebind would move our source port).
        if isinstance(op, SetListenPort) and (op.port or not dev.listen_port):
            port = op.port
        elif isinstance(op, SetFwmark):
            mark = op.mark
    return port, mark


def _apply_network(dev, ops: list, net: Network) -> None:
    """Rebind first: it is the one step that can fail, so failing here changes nothing."""
    port, mark = _wanted_port_and_mark(dev, ops)
    if (port, mark) == (dev.listen_port, dev.fwmark):
        return  # identical values are no-ops: never rebind for them
    if net is not None:
        try:
            port = net.rebind(port, mark)
        except OSError as exc:
            raise UapiError(EADDRINUSE, f"cannot bind port {port} fwmark {mark}: {exc}") from None
    dev.listen_port, dev.fwmark = port, mark


def _apply_peer_ops(dev, peer, created: bool, ops: list, now: float) -> None:
    """Apply one peer's section in order; remove/update_only end it (wireguard-go's dummy)."""
    for op in ops:
        if isinstance(op, RemovePeer) or isinstance(op, UpdateOnly) and created:
            dev.remove_peer(peer.public_key)
            return
        if isinstance(op, SetPresharedKey):
            peer.set_preshared_key(op.key)
        elif isinstance(op, SetEndpoint):
            peer.set_endpoint(op.endpoint)
        elif isinstance(op, SetKeepalive):
            dev.set_persistent_keepalive(peer, op.seconds, now)
        elif isinstance(op, ReplaceAllowedIps):
            dev.allowed_ips.remove_peer(peer)
        elif isinstance(op, AddAllowedIp):
            dev.allowed_ips.insert(op.network, peer)
        elif isinstance(op, RemoveAllowedIp):
            dev.allowed_ips.remove(op.network, peer)


def execute_set(dev, request: SetRequest, now: float, net: Network = None) -> None:
    """Apply a parsed request; raises UapiError(EADDRINUSE) before any change if binding fails."""
    _apply_network(dev, request.device_ops, net)
    for op in request.device_ops:
        if isinstance(op, SetPrivateKey):
            dev.set_private_key(op.key, now)
        elif isinstance(op, ReplacePeers):
            dev.remove_all_peers()
    for section in request.peers:
        if section.public_key == dev.public_key:
            continue  # our own key: wireguard-go configures a throw-away dummy
        created = section.public_key not in dev.peers
        peer = dev.add_peer(section.public_key, now)
        _apply_peer_ops(dev, peer, created, section.ops, now)


def handle_set(dev, lines: list, now: float, net: Network = None) -> int:
    """Parse then apply a set=1 body; return the errno to answer (0 or negative)."""
    try:
        execute_set(dev, parse_set(lines), now, net)
    except UapiError as exc:
        return -exc.errno
    return 0


# ---- get ----

def format_endpoint(host: str, port: int) -> str:
    """`a.b.c.d:port` or `[v6]:port`, as UAPI, `wg` and wg-quick files write an endpoint
    (LuCI PR 6593 was a wizard that forgot the brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _handshake_time(wall: float) -> tuple:
    if not wall:
        return 0, 0
    sec = int(wall)
    return sec, min(int((wall - sec) * 1e9), 999_999_999)


def _peer_lines(dev, peer) -> list:
    lines = [f"public_key={peer.public_key.hex()}",
             f"preshared_key={(peer.preshared_key or _ZERO_KEY).hex()}",
             "protocol_version=1"]
    if peer.endpoint is not None:
        lines.append(f"endpoint={format_endpoint(*peer.endpoint)}")
    sec, nsec = _handshake_time(peer.last_handshake_wall)
    lines += [f"last_handshake_time_sec={sec}", f"last_handshake_time_nsec={nsec}",
              f"tx_bytes={peer.tx_bytes}", f"rx_bytes={peer.rx_bytes}",
              f"persistent_keepalive_interval={peer.persistent_keepalive_interval}"]
    lines += [f"allowed_ip={network}" for network in dev.allowed_ips.networks_of(peer)]
    return lines


def render_get(dev) -> str:
    """The full get=1 answer, ending in `errno=0` and the blank line."""
    lines = []
    if dev.private_key:
        lines.append(f"private_key={dev.private_key.hex()}")
    if dev.listen_port:
        lines.append(f"listen_port={dev.listen_port}")
    if dev.fwmark:
        lines.append(f"fwmark={dev.fwmark}")
    for peer in list(dev.peers.values()):
        lines += _peer_lines(dev, peer)
    lines.append("errno=0")
    return "\n".join(lines) + "\n\n"
