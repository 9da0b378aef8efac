"""The kill switch (UCI `option killswitch '1'` on a wgpy interface): while it is on, the
router forwards nothing out of its WAN uplinks, so LAN traffic either goes into the tunnel
or nowhere -- also while the tunnel is not carrying traffic (wgpyd killed, device deleted,
no session), when the /1 routes have gone with the device and the WAN default route would
take over.

It is the OpenWrt idiom "no lan->wan forwarding, only lan->vpn", made independent of the
tunnel's process and device: an nftables table of its own, `inet wgpy_ks_IFNAME`, with one
forward-hook rule that rejects packets leaving by a WAN device unless they came in from a
WAN device or the tunnel (peers using the router as their exit keep working). The table is
not fw4's, so a firewall reload leaves it alone, and it is kernel state, so it outlives a
`kill -9` of wgpyd. The router's own traffic (DNS, the tunnel's encrypted UDP) is output,
not forward, and is never touched. Matching is by name (`oifname`): a WAN device that is
re-created keeps being matched.

The WAN devices are those of the system's default routes (IPv4 and IPv6) and of the
endpoint host routes, other than the tunnel; with none at all (no uplink yet), everything
forwarded that neither comes from nor goes into the tunnel is rejected. `wgpy down` and
turning the option off delete the table; netifd's teardown (which also runs when wgpyd
dies) keeps it. Covers IPv4 and IPv6 alike (family inet), so a LAN's native IPv6 cannot
leave beside an IPv4-only tunnel.
"""

import json

from wgpy.runtime.system import subprocess, which

TABLE_PREFIX = "wgpy_ks_"


class KillSwitchError(Exception):
    """`nft` refused the rule set or is missing; the message says which."""


def table_name(ifname: str) -> str:
    return TABLE_PREFIX + ifname.replace("-", "_").replace(".", "_")


def _quoted(names: "list[str] | tuple[str, ...]") -> str:
    return ", ".join(json.dumps(n) for n in names)


def ruleset(ifname: str, wan_devices: list[str]) -> str:
    """The nft script that (re)creates the table atomically (pure)."""
    table = table_name(ifname)
    if wan_devices:
        match = (f'oifname {{ {_quoted(wan_devices)} }} '
                 f'iifname != {{ {_quoted(wan_devices + [ifname])} }}')
    else:
        match = f'iifname != {json.dumps(ifname)} oifname != {json.dumps(ifname)}'
    return (f"table inet {table} {{}}\n"
            f"delete table inet {table}\n"
            f"table inet {table} {{\n"
            f"\tchain forward {{\n"
            f"\t\ttype filter hook forward priority filter - 1; policy accept;\n"
            f"\t\t{match} counter reject with icmpx admin-prohibited\n"
            f"\t}}\n"
            f"}}\n")


def wan_devices(ifname: str,
                host_route_devices: "list[str] | tuple[str, ...]" = ()) -> list[str]:
    """Devices of the default routes of both families, and of the host routes, not ours."""
    devices: list[str] = []
    for version in (4, 6):
        result = subprocess.run(["ip", "-j", f"-{version}", "route", "show", "default"],
                                capture_output=True, text=True)
        for route in json.loads(result.stdout or "[]") if result.returncode == 0 else []:
            if route.get("dev"):
                devices.append(route["dev"])
    devices += list(host_route_devices)
    return sorted({d for d in devices if d != ifname})


def _nft(script: str) -> None:
    if not which("nft"):
        raise KillSwitchError("killswitch: nft (nftables) is not installed")
    result = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, text=True)
    if result.returncode != 0:
        raise KillSwitchError(f"killswitch: nft: {result.stderr.strip()}")


def engage(ifname: str,
           host_route_devices: "list[str] | tuple[str, ...]" = ()) -> list[str]:
    """Install (or refresh) the kill switch of IFNAME; -> the WAN devices it blocks."""
    devices = wan_devices(ifname, host_route_devices)
    _nft(ruleset(ifname, devices))
    return devices


def is_engaged(ifname: str) -> bool:
    return subprocess.run(["nft", "list", "table", "inet", table_name(ifname)],
                          capture_output=True).returncode == 0 if which("nft") else False


def release(ifname: str) -> None:
    """Remove the kill switch of IFNAME (nothing to do when there is none)."""
    if is_engaged(ifname):
        _nft(f"delete table inet {table_name(ifname)}\n")
