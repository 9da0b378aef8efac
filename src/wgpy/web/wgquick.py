"""wg-quick `.conf` files: the parser behind Import and the writer behind "Add a device".

The parser reads what VPN providers hand out: `[Interface]` (PrivateKey, Address, DNS,
ListenPort, MTU) and `[Peer]` blocks (PublicKey, PresharedKey, AllowedIPs, Endpoint,
PersistentKeepalive). Keys are case-insensitive as in wg-quick; `#` starts a comment.
Keys wg-quick runs as shell (PostUp...) or that wgpy has no use for are reported as
warnings, never executed. Every value is validated; errors are FieldError("config", ...).
"""

from wgpy.keys import is_key
from wgpy.uci import validate as rules
from wgpy.uci.schema import DEFAULT_ENDPOINT_PORT, WEB_LIMITS
from wgpy.uci.validate import FieldError

MAX_PEERS = 64
_FIELD = "config"
_IFACE_KEYS = {"privatekey", "address", "dns", "listenport", "mtu"}
_PEER_KEYS = {"publickey", "presharedkey", "allowedips", "endpoint", "persistentkeepalive"}


class Peer:
    """A [Peer] block; the parser fills it in."""

    def __init__(self, public_key: str) -> None:
        self.public_key = public_key
        self.preshared_key = None
        self.allowed_ips = []
        self.endpoint_host = None
        self.endpoint_port = None
        self.persistent_keepalive = None


class Config:
    """A whole file: the [Interface] values, the peers, and what was not imported."""

    def __init__(self) -> None:
        self.private_key = None
        self.addresses = []
        self.dns = []          # servers: IP addresses
        self.dns_search = []   # names, as wg-quick reads them
        self.listen_port = None
        self.mtu = None
        self.peers = []
        self.warnings = []


def _fail(line: int, message: str) -> FieldError:
    return FieldError(_FIELD, f"line {line}: {message}")


def _sections(text: str) -> list:
    """(section name, line, {lowercase key: (line, value)}) in order; repeated keys join
    with ',' as wg-quick allows for Address, DNS and AllowedIPs."""
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            out.append((line[1:-1].strip().lower(), number, {}))
            continue
        name, sep, value = line.partition("=")
        if not sep or not out:
            raise _fail(number, "expected 'Key = Value' inside a [section]")
        keys = out[-1][2]
        name = name.strip().lower()
        value = value.strip()
        if name in keys:
            value = f"{keys[name][1]},{value}"
        keys[name] = (number, value)
    return out


def _rule(line: int, name: str, check, *args):
    """One of wgpy.uci.validate's rules, its refusal reported at this line."""
    try:
        return check(name, *args)
    except FieldError as exc:
        raise _fail(line, f"{name} {exc.message}") from None


def _int(line: int, name: str, value: str, option: str) -> int:
    return _rule(line, name, rules.integer, value, WEB_LIMITS[option])


def _key(line: int, name: str, value: str) -> str:
    if not is_key(value):
        raise _fail(line, f"{name} is not a WireGuard key (44 characters of base64)")
    return value


def _list(value: str) -> list:
    return [v.strip() for v in value.split(",") if v.strip()]


def _cidrs(line: int, name: str, value: str, interface: bool = False) -> list:
    check = rules.interface_address if interface else rules.network
    return [str(_rule(line, name, check, word)) for word in _list(value)]


def split_endpoint(line: int, value: str) -> tuple:
    """`host:port`, `[v6]:port` or a bare host -> (host, port)."""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, port = value.split(":")
    else:
        host, port = value, ""
    if not host:
        raise _fail(line, f"Endpoint '{value}' has no host")
    return (_rule(line, "Endpoint", rules.host, host),
            _int(line, "Endpoint port", port, "endpoint_port") if port
            else DEFAULT_ENDPOINT_PORT)


def _interface(conf: Config, keys: dict) -> None:
    for name, (line, value) in keys.items():
        if name == "privatekey":
            conf.private_key = _key(line, "PrivateKey", value)
        elif name == "address":
            conf.addresses = _cidrs(line, "Address", value, interface=True)
        elif name == "dns":
            for word in _list(value):  # wg-quick: an address is a server, a name a domain
                if rules.is_hostname(word):
                    conf.dns_search.append(word)
                else:
                    conf.dns.append(_rule(line, "DNS", rules.address, word))
        elif name == "listenport":
            conf.listen_port = _int(line, "ListenPort", value, "listen_port")
        elif name == "mtu":
            conf.mtu = _int(line, "MTU", value, "mtu")


def _peer(line: int, keys: dict) -> Peer:
    if "publickey" not in keys:
        raise _fail(line, "[Peer] without PublicKey")
    key_line, key_value = keys["publickey"]
    peer = Peer(_key(key_line, "PublicKey", key_value))
    for name, (number, value) in keys.items():
        if name == "presharedkey":
            peer.preshared_key = _key(number, "PresharedKey", value)
        elif name == "allowedips":
            peer.allowed_ips = _cidrs(number, "AllowedIPs", value)
        elif name == "endpoint":
            peer.endpoint_host, peer.endpoint_port = split_endpoint(number, value)
        elif name == "persistentkeepalive" and value.lower() != "off":
            peer.persistent_keepalive = _int(number, "PersistentKeepalive", value,
                                             "persistent_keepalive")
    return peer


def parse(text: str) -> Config:
    """A wg-quick config -> Config; raises FieldError("config", "line N: ...")."""
    conf = Config()
    seen_interface = False
    for section, line, keys in _sections(text):
        known = _IFACE_KEYS if section == "interface" else _PEER_KEYS
        if section not in ("interface", "peer"):
            raise _fail(line, f"unknown section [{section}]")
        for name, (number, _) in keys.items():
            if name not in known:
                conf.warnings.append(f"line {number}: '{name}' is not used by wgpy, ignored")
        if section == "interface":
            if seen_interface:
                raise _fail(line, "more than one [Interface]")
            seen_interface = True
            _interface(conf, keys)
        else:
            conf.peers.append(_peer(line, keys))
    if not conf.peers:
        raise FieldError(_FIELD, "no [Peer] section")
    if len(conf.peers) > MAX_PEERS:
        raise FieldError(_FIELD, f"more than {MAX_PEERS} peers")
    return conf


def render_client(private_key: str, addresses: list, dns: list, server_public: str,
                  preshared_key, allowed_ips: list, endpoint: str,
                  keepalive: int) -> str:
    """The complete client config the wizard hands out (and encodes as a QR code)."""
    lines = ["[Interface]", f"PrivateKey = {private_key}",
             f"Address = {', '.join(addresses)}"]
    if dns:
        lines.append(f"DNS = {', '.join(dns)}")
    lines += ["", "[Peer]", f"PublicKey = {server_public}"]
    if preshared_key:
        lines.append(f"PresharedKey = {preshared_key}")
    lines += [f"AllowedIPs = {', '.join(allowed_ips)}", f"Endpoint = {endpoint}"]
    if keepalive:
        lines.append(f"PersistentKeepalive = {keepalive}")
    return "\n".join(lines) + "\n"
