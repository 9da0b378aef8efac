"""The one set of value rules for everything that reaches UCI or the daemon: the web API,
the import of wg-quick files, the ubus methods and the command line all check a value here
before anything is written or applied. A refused value is a FieldError naming the field.

- No control characters anywhere (C0, DEL, C1; lone surrogates are not text either): a NUL
  or newline in a value is how a config gets a section its writer never saw.
- Addresses and networks without IPv6 zone IDs: Python's parser accepts any text after
  `%`; wgpy's endpoint and route code has no use for a zone, so a link-local endpoint
  with a zone is refused rather than half applied.
- Host names by RFC 1123 (letters, digits and '-' per label, 1-63 characters, 253 in all,
  not all digits), IP literals, bracketed for IPv6 where a port may follow.
- Numbers in the schema's ranges (schema.RANGES), stricter where the caller asks.
Pure: no I/O.
"""

from wgpy.runtime.compat import ipaddress
from wgpy.uci.syntax import LETTERS, NAME_CHARS, is_name

MAX_TEXT = 128  # a description or other free text
MAX_HOSTNAME = 253



class FieldError(Exception):
    """One bad field; `field` is the name the caller knows it by (JSON key, option)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _control_or_surrogate(char: str) -> bool:
    """Unicode category Cc (C0, DEL, C1) or Cs (a lone surrogate), without unicodedata."""
    code = ord(char)
    return code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000


def text(field: str, value: str, max_len: int = MAX_TEXT) -> str:
    """Free text: any printable characters, at most `max_len`."""
    for char in value:
        if _control_or_surrogate(char):
            raise FieldError(field, f"must not contain control characters ({ascii(char)})")
    if len(value) > max_len:
        raise FieldError(field, f"is longer than {max_len} characters")
    return value


def _plain(field: str, word: str) -> str:
    text(field, word, max_len=MAX_HOSTNAME)
    if "%" in word:
        raise FieldError(field, f"'{word}': IPv6 zone IDs are not supported")
    return word


def address(field: str, word: str) -> str:
    """A plain IP address (a DNS server, an endpoint), canonical form."""
    try:
        return str(ipaddress.ip_address(_plain(field, word)))
    except ValueError:
        raise FieldError(field, f"'{word}' is not an IP address") from None


def network(field: str, word: str) -> "ipaddress.IPv4Network | ipaddress.IPv6Network":
    """A CIDR or bare address (-> /32 or /128), host bits masked as wg does."""
    try:
        return ipaddress.ip_network(_plain(field, word), strict=False)
    except ValueError:
        raise FieldError(field, f"'{word}' is not a valid CIDR") from None


def interface_address(field: str, word: str) -> "ipaddress.IPv4Interface | ipaddress.IPv6Interface":
    """An interface address with optional prefix (a bare one is /32 or /128)."""
    try:
        return ipaddress.ip_interface(_plain(field, word))
    except ValueError:
        raise FieldError(field, f"'{word}' is not an IP address with prefix") from None


def is_hostname(name: str) -> bool:
    """RFC 1123 host name (one trailing dot allowed), not a dotted number."""
    bare = name[:-1] if name.endswith(".") else name
    return (0 < len(bare) <= MAX_HOSTNAME and not bare.replace(".", "").isdigit()
            and all(_is_label(label) for label in bare.split(".")))


def _is_label(label: str) -> bool:
    """One DNS label: 1-63 ASCII letters, digits and '-', not starting or ending with '-'."""
    return (0 < len(label) <= 63 and label[0] != "-" and label[-1] != "-"
            and all(c in NAME_CHARS and c != "_" or c == "-" for c in label))


def host(field: str, value: str) -> str:
    """A host name or IP address (IPv6 may be bracketed) -> without brackets."""
    bare = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    _plain(field, bare)
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if not is_hostname(bare):
        raise FieldError(field, f"'{value}' is not a hostname (RFC 1123) or IP address")
    return bare


def integer(field: str, value: "int | str", limits: tuple[int, int]) -> int:
    """An integer within `limits` (inclusive); "51820" is accepted too."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FieldError(field, "must be a number")
    try:
        number = int(value)
    except ValueError:
        raise FieldError(field, f"'{text(field, value)}' is not a number") from None
    low, high = limits
    if not low <= number <= high:
        raise FieldError(field, f"must be between {low} and {high}")
    return number


def ifname(field: str, value: str) -> str:
    """A new interface name: a UCI section name that is also a Linux interface name."""
    # A UCI section name within IFNAMSIZ.
    if not (0 < len(value) <= 15 and value[0] in LETTERS and is_name(value)):
        raise FieldError(field, "must be a letter then up to 14 letters, digits or '_'")
    return value


def words(field: str, values: list[str]) -> list[str]:
    """Items of a list, each checked as text (no control characters)."""
    return [text(field, v, max_len=MAX_HOSTNAME) for v in values]


def overlapping(new: "list[ipaddress.IPv4Network | ipaddress.IPv6Network]",
                taken: dict) -> "str | None":
    """The first "NET overlaps NET of PEER" among `new` and other peers' networks, or None.
    Default routes (/0) are exempt: a VPN exit and a road warrior may both be configured."""
    for net in new:
        if net.prefixlen == 0:
            continue
        for owner, nets in taken.items():
            for other in nets:
                if other.version == net.version and other.prefixlen and net.overlaps(other):
                    return f"{net} overlaps {other} of peer '{owner}'"
    return None
