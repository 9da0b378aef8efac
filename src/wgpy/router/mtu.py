"""The tunnel MTU when UCI sets none (an explicit `mtu` always wins), and why. Pure: the
path MTUs come from netconf.path_mtu.

For each peer endpoint: the MTU of the route (or device) towards it, minus the outer
overhead of its address family, rounded down to a multiple of 16; the smallest over peers.
The rounding matters because the far end pads every packet up to a multiple of 16 (capped
at its own MTU, often 1420): a 1412-byte packet becomes 1420 inside and 1500 outside.

The router sees only its own links. A smaller hop beyond them (a DS-Lite modem in front of
the router: IPv4 inside 40 bytes of IPv6; a 6in4 or 6rd tunnel for IPv6) is common on home
lines and often filters the ICMP that would reveal it, and the VPN server's downloads,
which the router cannot make smaller other than through the MSS clamp, then vanish there.
So the path beyond is assumed to be at most ASSUMED_PATH_MTU: 1392 on any 1500 or PPPoE
WAN, 2% less payload than 1420 for never stalling. Neither kernel WireGuard nor wireguard-go
chooses an MTU (1420 unless told; wg-quick takes route MTU - 80 without rounding).
"""


from wgpy.protocol.constants import PADDING_MULTIPLE
from wgpy.runtime.compat import Record, ipaddress

# Outer IP header + UDP header + WireGuard's transport header (16) and tag (16).
OVERHEAD = {4: 20 + 8 + 32, 6: 40 + 8 + 32}
# DS-Lite (IPv4 in IPv6: 1500 - 40) and 6in4/6rd (IPv6 in IPv4: 1500 - 20).
ASSUMED_PATH_MTU = {4: 1460, 6: 1480}
# IPv6 needs 1280 on every link; the kernel drops IPv6 from a link set below it.
MIN_MTU = 1280


class Choice(Record):
    """The MTU to use and why (for `wgpy status` and the page). source: "config" (UCI mtu),
    "auto" (from endpoint routes) or "assumed" (none known)."""
    FIELDS = ("mtu", "source", "reason")

    def as_dict(self) -> dict:
        return {"mtu": self.mtu, "source": self.source, "reason": self.reason}


def _fit(path_mtu: int, version: int) -> int:
    mtu = min(path_mtu, ASSUMED_PATH_MTU[version]) - OVERHEAD[version]
    return max(MIN_MTU, mtu - mtu % PADDING_MULTIPLE)


def _explain(ip: str, path_mtu: int, dev: str) -> str:
    version = ipaddress.ip_address(ip).version
    assumed = min(path_mtu, ASSUMED_PATH_MTU[version])
    beyond = "" if assumed == path_mtu else f", path beyond assumed {assumed}"
    return (f"endpoint {ip} via {dev} (MTU {path_mtu}{beyond}): "
            f"{assumed} - {OVERHEAD[version]}, rounded down to 16")


def choose(configured: "int | None", paths: dict[str, tuple[int, str]]) -> Choice:
    """configured: UCI `mtu` or None; paths: endpoint IP -> (route/device MTU, device)."""
    if configured is not None:
        return Choice(configured, "config", "option mtu")
    if not paths:
        mtu = min(_fit(p, v) for v, p in ASSUMED_PATH_MTU.items())
        return Choice(mtu, "assumed", f"no peer endpoint known yet: path assumed at most "
                      f"{ASSUMED_PATH_MTU[4]} (IPv4) / {ASSUMED_PATH_MTU[6]} (IPv6)")
    mtu, ip = min((_fit(p, ipaddress.ip_address(ip).version), ip)
                  for ip, (p, _) in paths.items())
    return Choice(mtu, "auto", _explain(ip, *paths[ip]))
