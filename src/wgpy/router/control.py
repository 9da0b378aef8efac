"""The router operations behind `wgpy up|down|reload|status` and the ubus service: read UCI,
start wgpyd, push the config over UAPI, set addresses and routes, and gather status.

Parse everything first, then act: an interface with a bad option is never started and an
interface that is running is left alone when its new config is bad. Peers are applied with
syncconf.plan (never replace_peers), so `reload` keeps the sessions of unchanged peers.
Under netifd (`netifd=True`) addresses and routes are not set here but returned as lines
for the proto handler to pass to proto_add_* (see package/wgpy/files/wgpy.sh).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from wgpy import keys
from wgpy.router import firewall, netconf, resolve, syncconf
from wgpy.router.handlers import Snapshot
from wgpy.uapi import client
from wgpy.uci import schema
from wgpy.uci.store import Store, UciError

STOP_TIMEOUT_S = 5.0


class OperationError(Exception):
    """An operation that could not start (no such interface, config unreadable)."""


@dataclass
class Result:
    """What one operation did to one interface."""
    ifname: str
    ok: bool = True
    errors: List[str] = field(default_factory=list)    # why it is down / unchanged
    warnings: List[str] = field(default_factory=list)  # skipped peers
    netifd_lines: List[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings}


def load_configs(store: Store) -> Dict[str, schema.InterfaceConfig]:
    """All wgpy interfaces of the network config; raises UciError."""
    return schema.interfaces(store.load(schema.NETWORK), store.path(schema.NETWORK))


def _config(store: Store, ifname: str) -> schema.InterfaceConfig:
    configs = load_configs(store)
    if ifname not in configs:
        raise OperationError(f"{store.path(schema.NETWORK)}: no interface '{ifname}' with "
                             f"proto '{schema.PROTO}'")
    return configs[ifname]


def daemon_command() -> List[str]:
    """How to run wgpyd: $WGPY_DAEMON, else the one installed beside this Python, else PATH."""
    if os.environ.get("WGPY_DAEMON"):
        return os.environ["WGPY_DAEMON"].split()
    beside = os.path.join(os.path.dirname(sys.executable), "wgpyd")
    return [beside if os.path.exists(beside) else shutil.which("wgpyd") or "wgpyd"]


def _start_daemon(ifname: str) -> None:
    """Run `wgpyd IFNAME`, which returns once the TUN and the UAPI socket exist."""
    result = subprocess.run(daemon_command() + [ifname], capture_output=True, text=True)
    if result.returncode != 0 or not client.is_live(ifname):
        raise OperationError(f"{ifname}: wgpyd failed to start: "
                             f"{result.stderr.strip() or result.returncode}")


def _ensure_key(store: Store, conf: schema.InterfaceConfig) -> None:
    """`private_key 'generate'` (or none): make one and save it, as OpenWrt's handler does."""
    if not conf.generate_key:
        return
    conf.private_key = keys.generate()
    store.set_option(schema.NETWORK, conf.name, "private_key", conf.private_key)


def _push(conf: schema.InterfaceConfig, resolver: resolve.Resolver) -> syncconf.Plan:
    plan = syncconf.plan(conf, client.get(conf.name), resolver)
    if plan.lines:
        client.set_lines(conf.name, plan.lines)
    return plan


def _netifd_lines(conf: schema.InterfaceConfig, plan: syncconf.Plan) -> List[str]:
    """`address4|address6 IP PREFIX`, `route4|route6 NET PREFIX`, `hostdep IP` lines."""
    lines = [f"address{a.version} {a.ip} {a.network.prefixlen}" for a in conf.addresses]
    lines += [f"route{n.version} {n.network_address} {n.prefixlen}"
              for n in netconf.routed_networks(plan.active(conf))]
    if not conf.nohostroute:
        ips = {resolve.endpoint_ip(e) for e in plan.endpoints.values() if e}
        lines += [f"hostdep {ip}" for ip in sorted(ips)]
    return lines


def _configure(conf: schema.InterfaceConfig, resolver: resolve.Resolver, netifd: bool,
               result: Result) -> None:
    """Push peers and keys, then addresses and routes (or the netifd lines)."""
    plan = _push(conf, resolver)
    result.warnings += [str(e) for e in conf.peer_errors + plan.skipped]
    old = netconf.load_state(conf.name)
    skipped = [e.as_dict() for e in plan.skipped]
    endpoints = [e for e in plan.endpoints.values() if e]
    whole_lan = netconf.whole_lan(plan.active(conf))
    if netifd:
        new = netconf.NetState(conf.name, netifd=True, skipped=skipped, mss_clamp=whole_lan)
        netconf.set_mtu(new, netconf.choose_mtu(conf, endpoints))
        netconf.ip("link", "set", "dev", conf.name, "up")
        if whole_lan or (old and old.mss_clamp):
            new.mss_clamp = firewall.clamp_mss(conf.name, whole_lan) and whole_lan
        result.netifd_lines = _netifd_lines(conf, plan)
    else:
        new = netconf.desired_state(conf, plan.active(conf), endpoints, old)
        new.skipped = skipped
        netconf.transition(new, old)
    if whole_lan and not new.mss_clamp:
        result.warnings.append(f"{conf.name}: cannot clamp the TCP MSS (nft missing or "
                               "refused): LAN clients depend on ICMP for the tunnel's MTU")
    netconf.save_state(new)


def up(store: Store, ifname: str, netifd: bool = False,
       resolver: resolve.Resolver = resolve.system_resolver) -> Result:
    """Bring IFNAME up from UCI (or bring a running one in line with it)."""
    result = Result(ifname)
    try:
        conf = _config(store, ifname)
    except (UciError, OperationError) as exc:
        return Result(ifname, False, [str(exc)])
    if conf.errors:
        return Result(ifname, False, [str(e) for e in conf.errors])
    try:
        _ensure_key(store, conf)
        if not client.is_live(ifname):
            _start_daemon(ifname)
        _configure(conf, resolver, netifd, result)
    except (OperationError, client.UapiError, netconf.NetconfError, UciError) as exc:
        result.ok = False
        result.errors.append(str(exc))
    return result


def down(ifname: str) -> Result:
    """Stop IFNAME: host routes removed, link deleted (addresses and routes go with it)."""
    state = netconf.load_state(ifname)
    if state is not None:
        netconf.remove_host_routes(state)
    pid = client.peer_pid(ifname)
    if not netconf.delete_link(ifname) and pid is not None:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while client.is_live(ifname) and time.monotonic() < deadline:
        time.sleep(0.05)
    netconf.forget_state(ifname)
    if client.is_live(ifname):
        return Result(ifname, False, [f"{ifname}: the daemon did not stop"])
    return Result(ifname)


def reload(store: Store, ifname: str,
           resolver: resolve.Resolver = resolve.system_resolver) -> Result:
    """Apply IFNAME's current config live; a stopped interface is brought up."""
    if not client.is_live(ifname):
        return up(store, ifname, resolver=resolver)
    try:
        conf = _config(store, ifname)
    except (UciError, OperationError) as exc:
        return Result(ifname, False, [str(exc)])
    if conf.errors:
        return Result(ifname, False, [str(e) for e in conf.errors] +
                      [f"{ifname}: left running with its previous configuration"])
    state = netconf.load_state(ifname)
    result = Result(ifname)
    try:
        _configure(conf, resolver, bool(state and state.netifd), result)
    except (client.UapiError, netconf.NetconfError) as exc:
        result.ok = False
        result.errors.append(str(exc))
    if state and state.netifd and shutil.which("ubus"):
        # Peers are already live; renew makes netifd take the new routes (our renew
        # handler runs `up --netifd`, which finds nothing left to change on the device).
        subprocess.run(["ubus", "call", f"network.interface.{ifname}", "renew"],
                       capture_output=True)
    result.netifd_lines = []  # only `up --netifd` speaks to the proto handler
    return result


def all_targets(store: Store, action: str) -> Tuple[List[str], List[str]]:
    """(interfaces to act on, interfaces to stop) for `--all`: up takes the auto ones, down
    the running ones; reload takes the running ones (starting interfaces stays netifd's or
    `up`'s job) and stops those wgpy started itself that UCI no longer has."""
    configs = load_configs(store)
    running = {n: netconf.load_state(n) for n in client.interfaces()}
    running = {n: s for n, s in running.items() if s is not None}
    if action == "up":
        return [n for n, c in configs.items() if c.auto and not c.disabled], []
    if action == "down":
        return [], list(running)
    return [n for n in running if n in configs], \
        [n for n, s in running.items() if n not in configs and not s.netifd]


def gather(store: Store, wall_now: Optional[float] = None) -> Snapshot:
    """Read UCI and every live UAPI socket once."""
    snap = Snapshot(wall_now=time.time() if wall_now is None else wall_now)
    try:
        snap.configs = load_configs(store)
    except UciError as exc:
        snap.config_error = str(exc)
    for ifname in client.interfaces():
        try:
            snap.devices[ifname] = client.get(ifname)
        except client.UapiError:
            continue  # went away between listing and asking
        try:
            snap.ifindex[ifname] = socket.if_nametoindex(ifname)
        except OSError:
            snap.ifindex[ifname] = 0
    for ifname in snap.configs:
        state = netconf.load_state(ifname)
        if state is not None and ifname in snap.devices:
            snap.skipped[ifname] = state.skipped
            snap.mtu[ifname] = state.mtu_choice
    return snap


def watchdog_round(store: Store, attempts: Dict, now: float,
                   resolver: resolve.Resolver = resolve.system_resolver) -> List[str]:
    """One pass of the built-in wireguard_watchdog over the running interfaces: re-resolve
    stale hostname peers and add the ones DNS kept out; -> log messages."""
    try:
        configs = load_configs(store)
    except UciError as exc:
        return [str(exc)]
    messages = []
    for ifname, conf in configs.items():
        if conf.errors or not client.is_live(ifname):
            continue
        try:
            messages += _watchdog_interface(conf, attempts, now, resolver)
        except (client.UapiError, netconf.NetconfError) as exc:
            messages.append(str(exc))
    return messages


def _watchdog_interface(conf: schema.InterfaceConfig, attempts: Dict, now: float,
                        resolver: resolve.Resolver) -> List[str]:
    live = {p["public_key"]: p for p in client.get(conf.name)["peers"]}
    messages = _refresh_mtu(conf, list(live.values()))
    due = resolve.due_for_reresolve(conf.peers, live, time.time(), attempts, conf.name, now)
    if not due:
        return messages
    state = netconf.load_state(conf.name)
    result = Result(conf.name)
    _configure(conf, resolver, bool(state and state.netifd), result)
    return messages + [f"{conf.name}: re-resolved {', '.join(p.section for p in due)}"] + \
        result.warnings


def _refresh_mtu(conf: schema.InterfaceConfig, live_peers: List[dict]) -> List[str]:
    """Without UCI `mtu`: follow the endpoints (roaming) and the WAN (back with another
    MTU); the link change reaches wgpyd's padding by itself."""
    state = netconf.load_state(conf.name)
    if conf.mtu is not None or state is None:
        return []
    endpoints = [p["endpoint"] for p in live_peers if p.get("endpoint")]
    choice = netconf.choose_mtu(conf, endpoints)
    before = state.mtu_choice
    changed = netconf.set_mtu(state, choice)
    if state.mtu_choice != before:
        netconf.save_state(state)
    return [f"{conf.name}: MTU {choice.mtu}: {choice.reason}"] if changed else []
