"""The part of the standard `ipaddress` module wgpy uses, for MicroPython (which has
none): addresses, networks and interfaces (address/prefix) of both versions with
packed/version/prefixlen/max_prefixlen/network_address/ipv4_mapped/overlaps/ip/network,
is_global, membership, equality, hashing and text forms. Parsing is
socket.inet_pton's. On CPython wgpy uses the standard module itself."""

import socket

_FAMILY = {4: socket.AF_INET, 6: socket.AF_INET6}
_BITS = {4: 32, 6: 128}


class _Versioned:
    """What addresses and networks of one IP version share."""
    VERSION = 0

    @property
    def version(self) -> int:
        return self.VERSION

    @property
    def max_prefixlen(self) -> int:
        return _BITS[self.VERSION]


class _Address(_Versioned):

    def __init__(self, value):
        bits = _BITS[self.VERSION]
        if isinstance(value, int):
            if not 0 <= value < 1 << bits:
                raise ValueError(f"{value} does not fit IPv{self.VERSION}")
            self._int = value
        elif isinstance(value, (bytes, bytearray)):
            if len(value) != bits // 8:
                raise ValueError(f"IPv{self.VERSION} addresses are {bits // 8} bytes")
            self._int = int.from_bytes(value, "big")
        else:
            try:
                packed = socket.inet_pton(_FAMILY[self.VERSION], value)
            except (OSError, ValueError, TypeError):
                raise ValueError(f"not an IPv{self.VERSION} address: {value!r}") from None
            self._int = int.from_bytes(packed, "big")

    @property
    def packed(self) -> bytes:
        return self._int.to_bytes(_BITS[self.VERSION] // 8, "big")

    def __int__(self):
        return self._int

    def __eq__(self, other):
        return type(self) is type(other) and self._int == other._int

    def __hash__(self):
        return hash((self.VERSION, self._int))

    def __lt__(self, other):
        return (self.VERSION, self._int) < (other.VERSION, other._int)

    def __str__(self):
        if self.VERSION == 4:
            return socket.inet_ntop(socket.AF_INET, self.packed)
        return _ipv6_text(self._int)

    def __repr__(self):
        return f"IPv{self.VERSION}Address('{self}')"

    @property
    def is_global(self) -> bool:
        """As the stdlib (3.11) decides: outside its private blocks (an IPv4-mapped IPv6
        address: the IPv4 address's), and for IPv4 outside the shared space (RFC 6598)."""
        mapped = self.ipv4_mapped if self.VERSION == 6 else None
        if mapped is not None:
            return not mapped._in(_PRIVATE)
        return not self._in(_PRIVATE) and not (self.VERSION == 4 and self._in(_SHARED))

    def _in(self, blocks: dict) -> bool:
        return any(self in net for net in _networks(blocks, self.VERSION))


def _ipv6_text(value: int) -> str:
    """RFC 5952 text, all hex as the stdlib writes it (libc's inet_ntop would write
    some forms with a dotted IPv4 tail)."""
    groups = [(value >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best_start, best_len, start = -1, 0, None
    for i, group in enumerate(groups + [1]):
        if group == 0 and start is None:
            start = i
        elif group != 0 and start is not None:
            if i - start > best_len:
                best_start, best_len = start, i - start
            start = None
    words = ["%x" % g for g in groups]
    if best_len < 2:
        return ":".join(words)
    return ":".join(words[:best_start]) + "::" + ":".join(words[best_start + best_len:])


class IPv4Address(_Address):
    VERSION = 4


class IPv6Address(_Address):
    VERSION = 6

    @property
    def ipv4_mapped(self):
        """The IPv4Address of ::ffff:a.b.c.d, else None."""
        return IPv4Address(self._int & 0xFFFFFFFF) if self._int >> 32 == 0xFFFF else None


class _Network(_Versioned):
    ADDRESS = _Address

    def __init__(self, value, strict: bool = True):
        bits = _BITS[self.VERSION]
        if isinstance(value, tuple):
            address, length = value
        else:
            address, _, length = str(value).partition("/")
            length = length or bits
            try:
                length = int(length)
            except ValueError:
                raise ValueError(f"bad prefix length in {value!r}") from None
        if not 0 <= length <= bits:
            raise ValueError(f"bad prefix length in {value!r}")
        host = int(self.ADDRESS(address))
        mask = ((1 << length) - 1) << (bits - length)
        if strict and host & ~mask:
            raise ValueError(f"{value!r} has host bits set")
        self.prefixlen = length
        self.network_address = self.ADDRESS(host & mask)

    def __contains__(self, address):
        bits = _BITS[self.VERSION]
        return (address.version == self.VERSION
                and int(address) >> (bits - self.prefixlen)
                == int(self.network_address) >> (bits - self.prefixlen))

    def overlaps(self, other) -> bool:
        return other.network_address in self or self.network_address in other

    def __eq__(self, other):
        return (type(self) is type(other) and self.prefixlen == other.prefixlen
                and self.network_address == other.network_address)

    def __hash__(self):
        return hash((self.VERSION, int(self.network_address), self.prefixlen))

    def __str__(self):
        return f"{self.network_address}/{self.prefixlen}"

    def __repr__(self):
        return f"IPv{self.VERSION}Network('{self}')"


class IPv4Network(_Network):
    VERSION = 4
    ADDRESS = IPv4Address


class IPv6Network(_Network):
    VERSION = 6
    ADDRESS = IPv6Address


class _Interface:
    """An address with its network (ip_interface("10.0.0.1/24")): .ip, .network."""
    NETWORK = _Network

    def __init__(self, value):
        self.network = self.NETWORK(value, strict=False)
        self.ip = self.NETWORK.ADDRESS(str(value).partition("/")[0])

    @property
    def version(self) -> int:
        return self.ip.version

    def __eq__(self, other):
        return type(self) is type(other) and (self.ip, self.network) == (other.ip, other.network)

    def __hash__(self):
        return hash((self.ip, self.network))

    def __str__(self):
        return f"{self.ip}/{self.network.prefixlen}"

    def __repr__(self):
        return f"IPv{self.version}Interface('{self}')"


class IPv4Interface(_Interface):
    NETWORK = IPv4Network


class IPv6Interface(_Interface):
    NETWORK = IPv6Network


def ip_address(value):
    for cls in (IPv4Address, IPv6Address):
        try:
            return cls(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} does not appear to be an IPv4 or IPv6 address")


def ip_network(value, strict: bool = True):
    for cls in (IPv4Network, IPv6Network):
        try:
            return cls(value, strict)
        except ValueError as e:
            error = e
    raise error


def ip_interface(value):
    for cls in (IPv4Interface, IPv6Interface):
        try:
            return cls(value)
        except ValueError as e:
            error = e
    raise error


# The stdlib's (3.11) private blocks of each version; IPv4's shared address space (RFC 6598)
# is not global either, though not private.
_PRIVATE = {
    4: ("0.0.0.0/8", "10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/29", "192.0.0.170/31", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32"),
    6: ("::1/128", "::/128", "::ffff:0:0/96", "100::/64", "2001::/23", "2001:2::/48",
        "2001:db8::/32", "2001:10::/28", "fc00::/7", "fe80::/10"),
}
_SHARED = {4: ("100.64.0.0/10",)}
_parsed = {}


def _networks(blocks: dict, version: int) -> list:
    key = (id(blocks), version)
    if key not in _parsed:  # parsed on first use only
        _parsed[key] = [ip_network(n) for n in blocks[version]]
    return _parsed[key]
