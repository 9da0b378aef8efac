"""Typed configuration of `proto 'wgpy'` interfaces, read from a parsed `network` package.

The options are OpenWrt's WireGuard ones, unchanged: interface sections take private_key,
listen_port, addresses, mtu, fwmark, nohostroute, tunlink; peers live in sections of type
`wireguard_<ifname>`. Every problem becomes a `ConfigError` naming file, section and option.
An interface with an error stays down (`InterfaceConfig.errors`); a peer with an error is left
out (`InterfaceConfig.peer_errors`) and the rest still come up. Nothing here does I/O: DNS is
resolve.py's job, so a hostname is only checked for syntax.
"""


from collections import OrderedDict

from wgpy import keys
from wgpy.runtime.compat import Record, ipaddress
from wgpy.uci import validate
from wgpy.uci.syntax import Package, Section

PROTO = "wgpy"
NETWORK = "network"  # the config holding interfaces and peers
PEER_SECTION_FMT = "wireguard_{ifname}"  # the type of an interface's peer sections
DEFAULT_ENDPOINT_PORT = 51820
_TRUE = frozenset(("1", "yes", "on", "true", "enabled"))  # libuci's booleans
_FALSE = frozenset(("0", "no", "off", "false", "disabled"))

# What the router accepts for each numeric option (inclusive).
RANGES = {
    "listen_port": (0, 65535),
    "mtu": (68, 65535),
    "fwmark": (0, 0xFFFFFFFF),
    "endpoint_port": (1, 65535),
    "persistent_keepalive": (0, 65535),
}
# Where the web page (and the import) asks for less than the router accepts: a fixed port
# a phone can be told, and LuCI's MTU range (below 1280 IPv6 cannot work). webui/validate.js
# carries a copy of both tables, checked equal by tests/uci/test_rules.py.
WEB_LIMITS = dict(RANGES, listen_port=(1, 65535), mtu=(1280, 8940))



class ConfigError(Exception):
    """One bad option: where it is (file, section, option, line if known) and what is wrong."""

    def __init__(self, path: str, section: str, option: "str | None", message: str,
                 line: "int | None" = None) -> None:
        where = path if line is None else f"{path} line {line}"
        what = f"section '{section}'" + (f", option '{option}'" if option else "")
        super().__init__(f"{where}: {what}: {message}")
        self.path, self.section, self.option, self.line = path, section, option, line
        self.message = message

    def as_dict(self) -> dict:
        """The error as ubus/JSON data."""
        return {"file": self.path, "section": self.section, "option": self.option,
                "line": self.line, "message": self.message}


class PeerConfig(Record):
    """One peer section; allowed_ips is a tuple of networks. Treated as immutable."""
    FIELDS = ("section", "public_key", "preshared_key", "allowed_ips", "route_allowed_ips",
              "endpoint_host", "endpoint_port", "persistent_keepalive", "description")
    DEFAULTS = {"preshared_key": None, "allowed_ips": (), "route_allowed_ips": False,
                "endpoint_host": None, "endpoint_port": DEFAULT_ENDPOINT_PORT,
                "persistent_keepalive": 0, "description": ""}


class InterfaceConfig(Record):
    """One `proto 'wgpy'` interface. private_key None: missing or 'generate' (see
    generate_key); addresses: a tuple of interfaces; killswitch: see
    wgpy.router.killswitch; errors keep the interface down, peer_errors only drop peers."""
    FIELDS = ("name", "path", "private_key", "generate_key", "listen_port", "addresses", "mtu",
              "fwmark", "nohostroute", "tunlink", "killswitch", "auto", "disabled", "peers",
              "errors", "peer_errors")
    DEFAULTS = {"private_key": None, "generate_key": False, "listen_port": None,
                "addresses": (), "mtu": None, "fwmark": 0, "nohostroute": False,
                "tunlink": None, "killswitch": False, "auto": True, "disabled": False}
    FACTORIES = {"peers": list, "errors": list, "peer_errors": list}

    def peer(self, public_key: str) -> "PeerConfig | None":
        """The configured peer with this base64 public key, or None."""
        return next((p for p in self.peers if p.public_key == public_key), None)


class _Reader:
    """Typed access to one section's options; the first bad option raises ConfigError."""

    def __init__(self, path: str, package: Package, section: Section) -> None:
        self.path, self.section = path, section
        self.label = package.label(section)

    def error(self, option: "str | None", message: str) -> ConfigError:
        opt = self.section.options.get(option) if option else None
        line = opt.line if opt is not None else self.section.line
        return ConfigError(self.path, self.label, option, message, line)

    def text(self, option: str) -> "str | None":
        value = self.section.get(option)
        if isinstance(value, list):
            raise self.error(option, "must be a single value, not a list")
        return value

    def words(self, option: str) -> list[str]:
        """A list option; a plain option is split on whitespace, as the shell handler does."""
        value = self.section.get(option)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [word for item in items for word in item.split()]

    def boolean(self, option: str, default: bool = False) -> bool:
        value = self.text(option)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise self.error(option, f"'{value}' is not a boolean (use 0 or 1)")

    def integer(self, option: str) -> "int | None":
        value = self.text(option)
        if value is None:
            return None
        try:
            number = int(value, 0)
        except ValueError:
            raise self.error(option, f"'{value}' is not a number") from None
        low, high = RANGES[option]
        if not low <= number <= high:
            raise self.error(option, f"{number} is out of range {low}-{high}")
        return number

    def key(self, option: str, required: bool = False) -> "str | None":
        value = self.text(option)
        if value is None or value == "":
            if required:
                raise self.error(option, "is missing")
            return None
        if not keys.is_key(value):
            raise self.error(option, "is not a WireGuard key (44 characters of base64)")
        return value


def is_true(text: "str | None") -> bool:
    """A UCI boolean that is on, as the schema reads it."""
    return text is not None and text.lower() in _TRUE


def peer_section_type(ifname: str) -> str:
    return PEER_SECTION_FMT.format(ifname=ifname)


def parse_network(text: str) -> "ipaddress.IPv4Network | ipaddress.IPv6Network":
    """A CIDR or bare address (-> /32 or /128); host bits are masked as wg does."""
    try:
        return validate.network("allowed_ips", text)
    except validate.FieldError as exc:
        raise ValueError(exc.message) from None


def parse_address(text: str) -> "ipaddress.IPv4Interface | ipaddress.IPv6Interface":
    """An interface address with optional prefix; a bare one is /32 or /128."""
    try:
        return validate.interface_address("addresses", text)
    except validate.FieldError as exc:
        raise ValueError(exc.message) from None


# ---- interface and peer sections ----

def _interface(path: str, package: Package, section: Section) -> InterfaceConfig:
    r = _Reader(path, package, section)
    conf = InterfaceConfig(name=section.name or r.label, path=path)
    # Each option is checked on its own, so one message per bad option, not just the first.
    steps = (
        lambda: _read_private_key(r, conf),
        lambda: setattr(conf, "listen_port", r.integer("listen_port")),
        lambda: setattr(conf, "addresses", _addresses(r)),
        lambda: setattr(conf, "mtu", r.integer("mtu")),
        lambda: setattr(conf, "fwmark", _fwmark(r)),
        lambda: setattr(conf, "nohostroute", r.boolean("nohostroute")),
        lambda: setattr(conf, "tunlink", r.text("tunlink")),
        lambda: setattr(conf, "killswitch", r.boolean("killswitch")),
        lambda: setattr(conf, "auto", r.boolean("auto", True)),
        lambda: setattr(conf, "disabled", r.boolean("disabled")),
    )
    for step in steps:
        try:
            step()
        except ConfigError as exc:
            conf.errors.append(exc)
    return conf


def _read_private_key(r: _Reader, conf: InterfaceConfig) -> None:
    value = r.text("private_key")
    if value in (None, "", "generate"):
        conf.generate_key = True  # as OpenWrt's handler: create one and save it
        return
    conf.private_key = r.key("private_key")


def _addresses(r: _Reader) -> "tuple[ipaddress.IPv4Interface | ipaddress.IPv6Interface, ...]":
    out = []
    for word in r.words("addresses"):
        try:
            out.append(parse_address(word))
        except ValueError:
            raise r.error("addresses", f"'{word}' is not an IP address or CIDR") from None
    return tuple(out)


def _fwmark(r: _Reader) -> int:
    value = r.text("fwmark")
    if value in (None, "", "off"):
        return 0
    return r.integer("fwmark") or 0


def _allowed_ips(r: _Reader) -> "tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]":
    out = []
    for word in r.words("allowed_ips"):
        try:
            out.append(parse_network(word))
        except ValueError:
            raise r.error("allowed_ips", f"'{word}' is not a valid CIDR") from None
    return tuple(out)


def _endpoint_host(r: _Reader) -> "str | None":
    host = r.text("endpoint_host")
    if not host:
        return None
    try:
        return validate.host("endpoint_host", host)
    except validate.FieldError as exc:
        raise r.error("endpoint_host", exc.message) from None


def _peer(path: str, package: Package, section: Section) -> "PeerConfig | None":
    """The peer, None if disabled; raises ConfigError on the first bad option."""
    r = _Reader(path, package, section)
    if r.boolean("disabled"):
        return None
    public_key = r.key("public_key", required=True)
    return PeerConfig(
        section=r.label,
        public_key=public_key or "",
        preshared_key=r.key("preshared_key"),
        allowed_ips=_allowed_ips(r),
        route_allowed_ips=r.boolean("route_allowed_ips"),
        endpoint_host=_endpoint_host(r),
        endpoint_port=r.integer("endpoint_port") or DEFAULT_ENDPOINT_PORT,
        persistent_keepalive=r.integer("persistent_keepalive") or 0,
        description=r.text("description") or "",
    )


def _add_peers(path: str, package: Package, conf: InterfaceConfig) -> None:
    own = keys.public_key(conf.private_key)
    seen: dict[str, str] = {}
    for section in package.sections:
        if section.type != peer_section_type(conf.name):
            continue
        try:
            peer = _peer(path, package, section)
        except ConfigError as exc:
            conf.peer_errors.append(exc)
            continue
        if peer is None:
            continue
        r = _Reader(path, package, section)
        if peer.public_key in seen:
            conf.peer_errors.append(r.error(
                "public_key", f"duplicate: the same key is already used by peer "
                              f"'{seen[peer.public_key]}'"))
            continue
        if peer.public_key == own:
            conf.peer_errors.append(r.error("public_key", "is this interface's own public key"))
            continue
        seen[peer.public_key] = peer.section
        conf.peers.append(peer)


def interfaces(package: Package, path: str) -> dict[str, InterfaceConfig]:
    """Every `proto 'wgpy'` interface of a `network` package, in file order, by name."""
    out: dict[str, InterfaceConfig] = OrderedDict()  # file order on MicroPython too
    for section in package.sections:
        if section.type != "interface" or section.get("proto") != PROTO or not section.name:
            continue
        conf = _interface(path, package, section)
        _add_peers(path, package, conf)
        out[conf.name] = conf
    return out
