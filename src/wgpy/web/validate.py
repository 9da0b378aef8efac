"""Server-side validation of what the page (or a script) sends: JSON values in, UCI option
values out, or a FieldError naming the field, which the API answers as HTTP 400.

The rules match the page's inline checks (webui/validate.js) and the UCI schema
(wgpy.uci.schema), so nothing the page accepts is later refused by `wgpy reload`.
Pure: no I/O, no UCI access.
"""

import base64
import ipaddress
import re
from typing import Dict, List, Optional, Union

from wgpy.keys import is_key

MAX_DESCRIPTION = 128
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?)+\Z")
_IFNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,14}\Z")  # a UCI section name that fits IFNAMSIZ
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Options = Dict[str, Union[str, List[str], None]]  # None: remove the option


class FieldError(Exception):
    """One bad field of a request; `field` is the JSON key the page highlights."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def text(body: dict, field: str, required: bool = False) -> str:
    """A string field, stripped; "" when absent (FieldError if required)."""
    value = body.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(field, "must be a string")
    value = value.strip()
    if required and not value:
        raise FieldError(field, "is required")
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


def integer(body: dict, field: str, low: int, high: int) -> Optional[int]:
    """An integer in [low, high], None when absent or empty; "51820" is accepted too."""
    value = body.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FieldError(field, "must be a number")
    try:
        number = int(value)
    except ValueError:
        raise FieldError(field, f"'{value}' is not a number") from None
    if not low <= number <= high:
        raise FieldError(field, f"must be between {low} and {high}")
    return number


def boolean(body: dict, field: str) -> bool:
    value = body.get(field, False)
    if not isinstance(value, bool):
        raise FieldError(field, "must be true or false")
    return value


def strings(body: dict, field: str) -> List[str]:
    """A list of strings; a single comma/space separated string is split."""
    value = body.get(field, [])
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(field, "must be a list of strings")
    return [v.strip() for v in value if v.strip()]


def networks(body: dict, field: str) -> list:
    """CIDRs (a bare address means /32 or /128), host bits masked as wg does."""
    out = []
    for word in strings(body, field):
        try:
            out.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            raise FieldError(field, f"'{word}' is not a valid CIDR") from None
    return out


def interface_addresses(body: dict, field: str) -> list:
    """Interface addresses with prefix, e.g. 10.66.0.1/24; at least one."""
    out = []
    for word in strings(body, field):
        try:
            out.append(ipaddress.ip_interface(word))
        except ValueError:
            raise FieldError(field, f"'{word}' is not an IP address with prefix") from None
    if not out:
        raise FieldError(field, "at least one address is required")
    return out


def ip_addresses(body: dict, field: str) -> List[str]:
    """Plain IP addresses (DNS servers)."""
    out = []
    for word in strings(body, field):
        try:
            out.append(str(ipaddress.ip_address(word)))
        except ValueError:
            raise FieldError(field, f"'{word}' is not an IP address") from None
    return out


def host(body: dict, field: str, required: bool = False) -> str:
    """A hostname or IP address (IPv6 may be bracketed); returned without brackets."""
    value = text(body, field, required)
    bare = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if not bare:
        return ""
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if not _HOSTNAME.match(bare) or bare.replace(".", "").isdigit():
        raise FieldError(field, f"'{value}' is not a hostname or IP address")
    return bare


def description(body: dict, field: str = "description") -> str:
    """Free text shown on the page; any characters but control ones (the page escapes it)."""
    value = text(body, field)
    if len(value) > MAX_DESCRIPTION:
        raise FieldError(field, f"is longer than {MAX_DESCRIPTION} characters")
    if _CONTROL.search(value):
        raise FieldError(field, "must not contain control characters")
    return value


def ifname(body: dict, field: str) -> str:
    """A new interface name: a UCI section name that is also a valid Linux interface name."""
    value = text(body, field, required=True)
    if not _IFNAME.match(value):
        raise FieldError(field, "must be a letter then up to 14 letters, digits or '_'")
    return value


def peer_options(body: dict) -> Options:
    """A peer as the page sends it -> the options of its `wireguard_<if>` section."""
    allowed = networks(body, "allowed_ips")
    endpoint_host = host(body, "endpoint_host")
    endpoint_port = integer(body, "endpoint_port", 1, 65535)
    keepalive = integer(body, "persistent_keepalive", 0, 65535)
    options = {
        "description": description(body) or None,
        "public_key": key(body, "public_key", required=True),
        "allowed_ips": [str(n) for n in allowed] or None,
        "route_allowed_ips": "1" if boolean(body, "route_allowed_ips") else None,
        "endpoint_host": endpoint_host or None,
        "endpoint_port": str(endpoint_port) if endpoint_port and endpoint_host else None,
        "persistent_keepalive": str(keepalive) if keepalive else None,
        "disabled": "1" if boolean(body, "disabled") else None,
    }
    # The page never sees a stored preshared key, so leaving it out keeps it; "" removes it.
    if "preshared_key" in body:
        options["preshared_key"] = key(body, "preshared_key") or None
    return options


def interface_options(body: dict) -> Options:
    """Interface settings as the page sends them -> options of the `interface` section."""
    port = integer(body, "listen_port", 1, 65535)
    mtu = integer(body, "mtu", 1280, 8940)  # LuCI's range; below 1280 IPv6 cannot work
    return {
        "listen_port": str(port) if port else None,
        "addresses": [str(a) for a in interface_addresses(body, "addresses")],
        "mtu": str(mtu) if mtu else None,
    }


def overlapping(new: List, taken: Dict[str, List]) -> Optional[str]:
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
