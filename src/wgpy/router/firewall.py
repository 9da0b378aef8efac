"""Putting a tunnel into OpenWrt's `wan` firewall zone, for "send the whole LAN through it",
and clamping the TCP MSS of what it forwards.

LAN traffic routed into a tunnel must be masqueraded to the tunnel address, or the VPN
server drops it: on OpenWrt that is what the `wan` zone (masq 1) does for every network
listed in it. LuCI's WireGuard how-to asks the user to add the interface there by hand;
the web UI's import does it in one step. Nothing happens where there is no firewall config
(a development box).
"""


from wgpy.runtime.system import os, subprocess
from wgpy.uci import syntax
from wgpy.uci.store import Store, UciError

FIREWALL_INIT = "/etc/init.d/firewall"


def _wan_zone(package: syntax.Package):
    for section in package.sections:
        if section.type == "zone" and section.get("name") == "wan":
            return section
    return None


def join_wan_zone(store: Store, ifname: str) -> bool:
    """Add ifname to the `wan` zone's networks and reload the firewall; False if there is
    no firewall config or no `wan` zone."""
    try:
        with store.edit("firewall") as package:  # under libuci's lock, read to write
            zone = _wan_zone(package)
            if zone is None:
                return False
            value = zone.get("network")
            networks = [] if value is None else value if isinstance(value, list) \
                else value.split()
            joined = ifname not in networks
            if joined:
                zone.options["network"] = syntax.Option("network", networks + [ifname])
    except UciError:
        return False
    if joined and os.access(FIREWALL_INIT, os.X_OK):
        subprocess.run([FIREWALL_INIT, "reload"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return True


# ---- TCP MSS clamping for tunnels that carry the LAN (OpenWrt's zone option mtu_fix) ----

MSS_TABLE = "wgpy_mssfix"
# Forwarded SYNs in and out of a listed tunnel get an MSS that fits the route's MTU (that
# is, the tunnel's), in the mangle slot as fw4's mtu_fix, so LAN clients never depend on
# ICMP "too big" for TCP. Our own table: fw4 reloads only replace table inet fw4.
_MSS_RULESET = f"""table inet {MSS_TABLE} {{
	set tunnels {{ type ifname; }}
	chain forward {{ type filter hook forward priority mangle; policy accept; }}
}}
flush chain inet {MSS_TABLE} forward
add rule inet {MSS_TABLE} forward oifname @tunnels tcp flags syn / syn,rst \
tcp option maxseg size set rt mtu
add rule inet {MSS_TABLE} forward iifname @tunnels tcp flags syn / syn,rst \
tcp option maxseg size set rt mtu
"""


def _nft(*args: str, script: str = "") -> "str | None":
    """Run nft; -> its output, None if it failed or is not installed."""
    try:
        result = subprocess.run(["nft"] + list(args), input=script, text=True, capture_output=True)
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def clamp_mss(ifname: str, on: bool) -> bool:
    """Clamp (or stop clamping) the MSS of TCP forwarded through ifname; False if nft is
    missing or refused it (then LAN clients depend on ICMP for the tunnel MTU)."""
    element = f'{{ "{ifname}" }}'
    if on:
        script = _MSS_RULESET + f"add element inet {MSS_TABLE} tunnels {element}\n"
        return _nft("-f", "-", script=script) is not None
    _nft("-f", "-", script=f"delete element inet {MSS_TABLE} tunnels {element}\n")
    listing = _nft("list", "set", "inet", MSS_TABLE, "tunnels")
    if listing is not None and "elements" not in listing:
        _nft("delete", "table", "inet", MSS_TABLE)
    return True
