"""Putting a tunnel into OpenWrt's `wan` firewall zone, for "send the whole LAN through it".

LAN traffic routed into a tunnel must be masqueraded to the tunnel address, or the VPN
server drops it: on OpenWrt that is what the `wan` zone (masq 1) does for every network
listed in it. LuCI's WireGuard how-to asks the user to add the interface there by hand;
the web UI's import does it in one step. Nothing happens where there is no firewall config
(a development box).
"""

import os
import subprocess

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
