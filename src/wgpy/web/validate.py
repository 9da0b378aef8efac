"""The methods' arguments: JSON values in, UCI option values out, or a FieldError naming
the field, which methods.py answers as a refusal with that field.

Only the JSON side is here (types, required fields, lists): every value rule is
wgpy.uci.validate's, the ranges are the schema's WEB_LIMITS, and the edited package is then
checked by the schema itself (wgpy.uci.edit.check) before anything is written. The page's
inline checks (webui/validate.js) carry a copy of the same limits, tested equal.
Pure: no I/O, no UCI access.
"""

import base64
from collections import OrderedDict

from wgpy.keys import is_key
from wgpy.uci import validate as rules
from wgpy.uci.edit import Options
from wgpy.uci.schema import WEB_LIMITS
from wgpy.uci.validate import FieldError, overlapping  # noqa: F401  (the methods' names)

MAX_DESCRIPTION = rules.MAX_TEXT
MAX_FIELD = 1024  # any other single-line field (a password, a name)
MAX_CONFIG = 64 * 1024  # an imported wg-quick file


def text(body: dict, field: str, required: bool = False, max_len: int = MAX_FIELD) -> str:
    """A string field, stripped; "" when absent (FieldError if required)."""
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(field, "must be a string")
    value = rules.text(field, value.strip(), max_len)
    if required and not value:
        raise FieldError(field, "is required")
    return value


def multiline(body: dict, field: str) -> str:
    """A required text of several lines (an imported file): no control characters other
    than line ends and tabs; each value in it is checked by its own parser."""
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise FieldError(field, "is required")
    for line in value.replace("\r\n", "\n").split("\n"):
        rules.text(field, line.replace("\t", " "), MAX_CONFIG)
    if len(value) > MAX_CONFIG:
        raise FieldError(field, f"is longer than {MAX_CONFIG} characters")
    return value


def key(body: dict, field: str, required: bool = False) -> str:
    """A base64 WireGuard key (44 characters, 32 bytes) or "" when optional and absent."""
    value = text(body, field, required)
    # Re-encoding must give the same text: wg(8) refuses keys with stray low bits in the
    # last character, which base64.b64decode (and so schema.is_key) lets through.
    canonical = is_key(value) and base64.b64encode(base64.b64decode(value)).decode() == value
    if value and not canonical:
        raise FieldError(field, "is not a WireGuard key (44 characters of base64, 32 bytes)")
    return value


def integer(body: dict, field: str):
    """A number in the field's WEB_LIMITS range, None when absent or empty."""
    value = body.get(field)
    if value is None or value == "":
        return None
    return rules.integer(field, value, WEB_LIMITS[field])


def boolean(body: dict, field: str) -> bool:
    value = body.get(field, False)
    if not isinstance(value, bool):
        raise FieldError(field, "must be true or false")
    return value


def strings(body: dict, field: str) -> list:
    """A list of strings; a single comma/space separated string is split."""
    value = body.get(field, [])
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(field, "must be a list of strings")
    return rules.words(field, [v.strip() for v in value if v.strip()])


def networks(body: dict, field: str) -> list:
    """CIDRs (a bare address means /32 or /128), host bits masked as wg does."""
    return [rules.network(field, word) for word in strings(body, field)]


def interface_addresses(body: dict, field: str) -> list:
    """Interface addresses with prefix, e.g. 10.66.0.1/24; at least one."""
    out = [rules.interface_address(field, word) for word in strings(body, field)]
    if not out:
        raise FieldError(field, "at least one address is required")
    return out


def ip_addresses(body: dict, field: str) -> list:
    """Plain IP addresses (DNS servers)."""
    return [rules.address(field, word) for word in strings(body, field)]


def host(body: dict, field: str, required: bool = False) -> str:
    """A hostname or IP address (IPv6 may be bracketed); returned without brackets."""
    value = text(body, field, required, max_len=rules.MAX_HOSTNAME + 2)
    return rules.host(field, value) if value else ""


def description(body: dict, field: str = "description") -> str:
    """Free text shown on the page; any characters but control ones (the page escapes it)."""
    return text(body, field, max_len=MAX_DESCRIPTION)


def ifname(body: dict, field: str) -> str:
    """A new interface name: a UCI section name that is also a valid Linux interface name."""
    return rules.ifname(field, text(body, field, required=True))


def revision(body: dict):
    """The revision the editor read (see wgpy.uci.edit.revision), None when not sent."""
    value = body.get("revision")
    if value is not None and not isinstance(value, str):
        raise FieldError("revision", "must be a string")
    return value


def peer_options(body: dict) -> Options:
    """A peer as the page sends it -> the options of its `wireguard_<if>` section."""
    allowed = networks(body, "allowed_ips")
    endpoint_host = host(body, "endpoint_host")
    endpoint_port = integer(body, "endpoint_port")
    keepalive = integer(body, "persistent_keepalive")
    options: Options = OrderedDict([  # the file's order on MicroPython too
        ("description", description(body) or None),
        ("public_key", key(body, "public_key", required=True)),
        ("allowed_ips", [str(n) for n in allowed] or None),
        ("route_allowed_ips", "1" if boolean(body, "route_allowed_ips") else None),
        ("endpoint_host", endpoint_host or None),
        ("endpoint_port", str(endpoint_port) if endpoint_port and endpoint_host else None),
        ("persistent_keepalive", str(keepalive) if keepalive else None),
        ("disabled", "1" if boolean(body, "disabled") else None),
    ])
    # The page never sees a stored preshared key, so leaving it out keeps it; "" removes it.
    if "preshared_key" in body:
        options["preshared_key"] = key(body, "preshared_key") or None
    return options


def interface_options(body: dict) -> Options:
    """Interface settings as the page sends them -> options of the `interface` section."""
    port = integer(body, "listen_port")
    mtu = integer(body, "mtu")
    return OrderedDict([
        ("listen_port", str(port) if port else None),
        ("addresses", [str(a) for a in interface_addresses(body, "addresses")]),
        ("mtu", str(mtu) if mtu else None),
    ])
