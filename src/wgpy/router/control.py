"""The router operations behind `wgpy up|down|reload|status|watchdog|mtu`: read UCI,
start wgpyd, push the config over UAPI, set addresses and routes, and gather status.

Parse everything first, then act: an interface with a bad option is never started and an
interface that is running is left alone when its new config is bad. Peers are applied with
syncconf.plan (never replace_peers), so `reload` keeps the sessions of unchanged peers.
Under netifd (`netifd=True`) addresses and routes are not set here but returned as lines
for the proto handler to pass to proto_add_* (see package/wgpy/files/wgpy.sh), and so are
the problems it must report with proto_notify_error (`error CODE MESSAGE`); netifd runs
wgpyd itself as the proto task, so `up --netifd` waits for it instead of starting it.

Supervision: a setup of one interface starts at most once per RETRY_S (the time OpenWrt's
wireguard.sh sleeps before proto_setup_failed), counted from the previous attempt unless a
`wgpy down` came between, so neither a bad config under netifd nor a daemon that keeps
dying restarts in a storm, while the first recovery after a crash is immediate.
`supervise_round` is the standalone equivalent of netifd's proto task: `wgpy watchdog` (cron)
brings back interfaces that `wgpy up` started and whose wgpyd has gone.
"""

import json
import sys
import time

from wgpy import keys
from wgpy.router import firewall, killswitch, netconf, resolve, syncconf
from wgpy.router.handlers import Snapshot
from wgpy.runtime.compat import Record
from wgpy.runtime.system import if_nametoindex, monotonic, os, signal, subprocess, which
from wgpy.uapi import client
from wgpy.uci import schema
from wgpy.uci.store import Store, UciError

STOP_TIMEOUT_S = 5.0
RETRY_S = 5.0
DAEMON_WAIT_S = 20.0  # for netifd's wgpyd to come up: a cold Python start on a small router
_PARENT = os.getppid()  # who ran us; see _pause


class OperationError(Exception):
    """An operation that could not start (no such interface, config unreadable)."""


class Result(Record):
    """What one operation did to one interface: errors say why it is down or unchanged,
    warnings name skipped peers, error_code is for proto_notify_error (SETUP_FAILED or
    CONFIG_ERROR)."""
    FIELDS = ("ifname", "ok", "errors", "warnings", "netifd_lines", "error_code")
    DEFAULTS = {"ok": True, "error_code": "SETUP_FAILED"}
    FACTORIES = {"errors": list, "warnings": list, "netifd_lines": list}

    def as_dict(self) -> dict:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings}


def load_configs(store: Store) -> dict[str, schema.InterfaceConfig]:
    """All wgpy interfaces of the network config; raises UciError."""
    return schema.interfaces(store.load(schema.NETWORK), store.path(schema.NETWORK))


def _config(store: Store, ifname: str) -> schema.InterfaceConfig:
    configs = load_configs(store)
    if ifname not in configs:
        raise OperationError(f"{store.path(schema.NETWORK)}: no interface '{ifname}' with "
                             f"proto '{schema.PROTO}'")
    return configs[ifname]


def daemon_command() -> list[str]:
    """How to run wgpyd: $WGPY_DAEMON, else the one installed beside this Python, else PATH."""
    if os.environ.get("WGPY_DAEMON"):
        return os.environ["WGPY_DAEMON"].split()
    beside = os.path.join(os.path.dirname(sys.executable), "wgpyd")
    return [beside if os.path.exists(beside) else which("wgpyd") or "wgpyd"]


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


def _netifd_lines(conf: schema.InterfaceConfig, plan: syncconf.Plan) -> list[str]:
    """`address4|address6 IP PREFIX`, `route4|route6 NET PREFIX`, `hostdep IP` lines."""
    lines = [f"address{a.version} {a.ip} {a.network.prefixlen}" for a in conf.addresses]
    lines += [f"route{n.version} {n.network_address} {n.prefixlen}"
              for n in netconf.routed_networks(plan.active(conf))]
    if not conf.nohostroute:
        ips = {resolve.endpoint_ip(e) for e in plan.endpoints.values() if e}
        lines += [f"hostdep {ip}" for ip in sorted(ips)]
    return lines


def _error_lines(code: str, messages: list[str]) -> list[str]:
    """For proto_notify_error: one `error CODE MESSAGE` line per problem."""
    return [f"error {code} {' '.join(m.split())}" for m in messages]


def _killswitch(conf: schema.InterfaceConfig, state: netconf.NetState) -> None:
    if conf.killswitch:
        killswitch.engage(conf.name, [v["dev"] for v in state.host_routes.values()])
    else:
        killswitch.release(conf.name)


def _configure(conf: schema.InterfaceConfig, resolver: resolve.Resolver, netifd: bool,
               result: Result) -> None:
    """Push peers and keys, then addresses and routes (or the netifd lines), against what
    the kernel has now rather than what the last record says."""
    plan = _push(conf, resolver)
    result.warnings += [str(e) for e in conf.peer_errors + plan.skipped]
    skipped = [e.as_dict() for e in plan.skipped]
    endpoints = [e for e in plan.endpoints.values() if e]
    whole_lan = netconf.whole_lan(plan.active(conf))
    if netifd:
        old = netconf.load_state(conf.name)
        new = netconf.NetState(conf.name, netifd=True, skipped=skipped, mss_clamp=whole_lan)
        netconf.set_mtu(new, netconf.choose_mtu(conf, endpoints))
        netconf.ip("link", "set", "dev", conf.name, "up")
        if whole_lan or (old and old.mss_clamp):
            new.mss_clamp = firewall.clamp_mss(conf.name, whole_lan) and whole_lan
        _killswitch(conf, new)
        result.netifd_lines = _netifd_lines(conf, plan) + \
            _error_lines("PEER_SKIPPED", result.warnings)
    else:
        old = netconf.observed(conf.name, netconf.load_state(conf.name))
        new = netconf.desired_state(conf, plan.active(conf), endpoints, old)
        new.skipped = skipped
        _killswitch(conf, new)
        netconf.transition(new, old)
    if whole_lan and not new.mss_clamp:
        result.warnings.append(f"{conf.name}: cannot clamp the TCP MSS (nft missing or "
                               "refused): LAN clients depend on ICMP for the tunnel's MTU")
    netconf.save_state(new)


# ---- the retry spacing ----

def _attempt_path(ifname: str) -> str:
    return os.path.join(netconf.RUN_DIR, f"{ifname}.attempt")


def _pause(seconds: float) -> None:
    """Sleep, but give up if our parent is gone: netifd kills the setup script (not us)
    when it aborts a setup, and an orphaned `up` must not go on configuring (or hold the
    lock against) the next attempt's wgpyd."""
    deadline = monotonic() + seconds
    while True:
        if os.getppid() != _PARENT:
            raise OperationError("setup abandoned: the caller is gone")
        if monotonic() >= deadline:
            return
        time.sleep(min(0.05, max(0.0, deadline - monotonic())))


def _wait_for_turn(ifname: str) -> None:
    """Sleep until RETRY_S after the previous setup attempt began; record this one."""
    try:
        with open(_attempt_path(ifname), encoding="utf-8") as f:
            last = float(json.load(f)["monotonic"])
    except (OSError, ValueError, KeyError, TypeError):
        last = None
    if last is not None:
        wait = last + RETRY_S - monotonic()
        if 0 < wait <= RETRY_S:
            _pause(wait)
    netconf.write_atomic(_attempt_path(ifname), json.dumps({"monotonic": monotonic()}))


def _forget_attempts(ifname: str) -> None:
    netconf.remove_file(_attempt_path(ifname))


def _wait_for_daemon(ifname: str) -> None:
    """Under netifd the proto task is wgpyd: wait for its UAPI socket."""
    deadline = monotonic() + DAEMON_WAIT_S
    while not client.is_live(ifname):
        if monotonic() > deadline:
            raise OperationError(f"{ifname}: wgpyd (netifd's proto task) did not come up "
                                 f"within {DAEMON_WAIT_S:.0f} s")
        _pause(0.05)


def up(store: Store, ifname: str, netifd: bool = False,
       resolver: resolve.Resolver = resolve.system_resolver) -> Result:
    """Bring IFNAME up from UCI (or bring a running one in line with it)."""
    with netconf.locked(ifname):
        result = _up(store, ifname, netifd, resolver)
    if netifd and not result.ok:
        result.netifd_lines = _error_lines(result.error_code, result.errors)
    return result


def _up(store: Store, ifname: str, netifd: bool, resolver: resolve.Resolver) -> Result:
    result = Result(ifname)
    try:
        _prepare(ifname, netifd)
    except OperationError as exc:
        return Result(ifname, False, [str(exc)])
    try:
        conf = _config(store, ifname)
    except (UciError, OperationError) as exc:
        return Result(ifname, False, [str(exc)], error_code="CONFIG_ERROR")
    if conf.errors:
        return Result(ifname, False, [str(e) for e in conf.errors], error_code="CONFIG_ERROR")
    try:
        _ensure_key(store, conf)
        if netifd:
            _wait_for_daemon(ifname)
        elif not client.is_live(ifname):
            _start_daemon(ifname)
        _configure(conf, resolver, netifd, result)
    except (OperationError, client.UapiError, netconf.NetconfError, UciError,
            killswitch.KillSwitchError) as exc:
        result.ok = False
        result.errors.append(str(exc))
    return result


def _prepare(ifname: str, netifd: bool) -> None:
    # A setup (not a renew, not an `up` of a running interface) waits for its turn; under
    # netifd wgpyd is already running by then, but the teardown left no record.
    if netifd:
        _pause(0)  # an abandoned setup that waited for the lock stops here
    if netconf.load_state(ifname) is None if netifd else not client.is_live(ifname):
        _wait_for_turn(ifname)


def down(ifname: str, netifd: bool = False) -> Result:
    """Stop IFNAME: host routes removed, link deleted (addresses and routes go with it),
    kill switch released. Under netifd (its teardown, which also follows a crash of wgpyd)
    the kill switch stays and the retry spacing is kept."""
    with netconf.locked(ifname):
        state = netconf.load_state(ifname)
        if state is not None:
            netconf.remove_host_routes(state)
        pid = client.peer_pid(ifname)
        if not netconf.delete_link(ifname) and pid is not None:
            os.kill(pid, signal.SIGTERM)
        deadline = monotonic() + STOP_TIMEOUT_S
        while client.is_live(ifname) and monotonic() < deadline:
            time.sleep(0.05)
        netconf.forget_state(ifname)
        result = Result(ifname)
        if not netifd:
            _forget_attempts(ifname)
            try:
                killswitch.release(ifname)
            except killswitch.KillSwitchError as exc:
                result = Result(ifname, False, [str(exc)])
        if client.is_live(ifname):
            return Result(ifname, False, [f"{ifname}: the daemon did not stop"])
        return result


def reload(store: Store, ifname: str,
           resolver: resolve.Resolver = resolve.system_resolver) -> Result:
    """Apply IFNAME's current config live; a stopped interface is brought up."""
    if not client.is_live(ifname):
        state = netconf.load_state(ifname)
        if state is not None and state.netifd:
            return Result(ifname, warnings=[f"{ifname}: wgpyd is not running; netifd "
                                            "restarts it (its proto task)"])
        return up(store, ifname, resolver=resolver)
    with netconf.locked(ifname):
        result, under_netifd = _reload(store, ifname, resolver)
    if result.ok and under_netifd and which("ubus"):
        # Peers are already live; renew makes netifd take the new routes (our renew
        # handler runs `up --netifd`, which finds nothing left to change on the device).
        # Outside the lock: the renew handler takes it.
        subprocess.run(["ubus", "call", f"network.interface.{ifname}", "renew"],
                       capture_output=True)
    result.netifd_lines = []  # only `up --netifd` speaks to the proto handler
    return result


def _reload(store: Store, ifname: str, resolver: resolve.Resolver) -> tuple[Result, bool]:
    """-> (result, whether netifd owns the interface)."""
    try:
        conf = _config(store, ifname)
    except (UciError, OperationError) as exc:
        return Result(ifname, False, [str(exc)]), False
    if conf.errors:
        return Result(ifname, False, [str(e) for e in conf.errors] +
                      [f"{ifname}: left running with its previous configuration"]), False
    state = netconf.load_state(ifname)
    result = Result(ifname)
    try:
        _configure(conf, resolver, bool(state and state.netifd), result)
    except (client.UapiError, netconf.NetconfError, killswitch.KillSwitchError) as exc:
        result.ok = False
        result.errors.append(str(exc))
    return result, bool(state and state.netifd)


def all_targets(store: Store, action: str) -> tuple[list[str], list[str]]:
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


def supervise_round(store: Store) -> list[Result]:
    """Bring back every interface `wgpy up` started (a non-netifd record) whose wgpyd is
    gone; `up` rebuilds it from UCI and the kernel, spaced by RETRY_S."""
    try:
        configs = load_configs(store)
    except UciError:
        return []
    results = []
    for name in os.listdir(netconf.RUN_DIR) if os.path.isdir(netconf.RUN_DIR) else []:
        ifname = name[:-len(".json")] if name.endswith(".json") else None
        if ifname is None or ifname not in configs or client.is_live(ifname):
            continue
        state = netconf.load_state(ifname)
        if state is not None and not state.netifd:
            results.append(up(store, ifname))
    return results


def gather(store: Store, wall_now: "float | None" = None) -> Snapshot:
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
            snap.ifindex[ifname] = if_nametoindex(ifname)
        except OSError:
            snap.ifindex[ifname] = 0
    for ifname in snap.configs:
        state = netconf.load_state(ifname)
        if state is not None and ifname in snap.devices:
            snap.skipped[ifname] = state.skipped
            snap.mtu[ifname] = state.mtu_choice
    return snap


def watchdog_round(store: Store, attempts: dict, now: float,
                   resolver: resolve.Resolver = resolve.system_resolver) -> list:
    """One pass of the built-in wireguard_watchdog (`wgpy watchdog`, from cron): bring back
    standalone interfaces whose wgpyd died (supervise_round), then over the running
    interfaces follow the MTU, re-resolve stale hostname peers and add the ones DNS kept
    out; -> log messages."""
    try:
        configs = load_configs(store)
    except UciError as exc:
        return [str(exc)]
    messages = []
    for result in supervise_round(store):
        messages.append(f"{result.ifname}: wgpyd had stopped; "
                        + ("brought back up" if result.ok else "restart failed"))
        messages += result.errors + result.warnings
    return messages + _each_running(
        configs, lambda conf: _watchdog_interface(store, conf, attempts, now, resolver))


def mtu_round(store: Store) -> list:
    """The automatic MTU of every running interface, chosen again now (`wgpy mtu`,
    from netifd's iface hotplug when another interface comes up or changes); -> log
    messages."""
    try:
        configs = load_configs(store)
    except UciError as exc:
        return [str(exc)]
    return _each_running(configs,
                         lambda conf: _refresh_mtu(conf, client.get(conf.name)["peers"]))


def _each_running(configs: dict, step) -> list:
    messages = []
    for ifname, conf in configs.items():
        if conf.errors or not client.is_live(ifname):
            continue
        try:
            messages += step(conf)
        except (client.UapiError, netconf.NetconfError) as exc:
            messages.append(str(exc))
    return messages


def _watchdog_interface(store: Store, conf: schema.InterfaceConfig, attempts: dict,
                        now: float, resolver: resolve.Resolver) -> list:
    live = {p["public_key"]: p for p in client.get(conf.name)["peers"]}
    messages = _refresh_mtu(conf, list(live.values()))
    due = resolve.due_for_reresolve(conf.peers, live, time.time(), attempts, conf.name, now)
    moved = [p for p in due if _resolves_elsewhere(p, live.get(p.public_key), resolver)]
    if not moved:
        return messages
    names = ", ".join(p.section for p in moved)
    state = netconf.load_state(conf.name)
    if state is not None and state.netifd:
        # Not a reload and renew: netifd would look the new address's host route up among
        # every interface's routes, this one's whole-LAN routes too, and send the endpoint
        # into the tunnel itself. A setup resolves afresh before adding our routes.
        for step in ("down", "up"):
            subprocess.run(["ubus", "call", f"network.interface.{conf.name}", step],
                           capture_output=True)
        return messages + [f"{conf.name}: new address for {names}: set up again by netifd"]
    result = reload(store, conf.name, resolver)
    return messages + [f"{conf.name}: re-resolved {names}"] + result.errors + result.warnings


def _resolves_elsewhere(peer: schema.PeerConfig, live_peer: "dict | None",
                        resolver: resolve.Resolver) -> bool:
    """True if the peer's name now gives another endpoint than the device has (or the peer
    is missing from the device, DNS having failed at start)."""
    try:
        endpoint = resolve.endpoint(peer, resolver)
    except resolve.ResolveError:
        return False
    return live_peer is None or live_peer.get("endpoint") != endpoint


def _refresh_mtu(conf: schema.InterfaceConfig, live_peers: list[dict]) -> list[str]:
    """Without UCI `mtu`: follow the endpoints (roaming) and the WAN (back with another
    MTU); the link change reaches wgpyd's padding by itself."""
    if conf.mtu is not None:
        return []
    with netconf.locked(conf.name):   # against a reload writing the same record
        state = netconf.load_state(conf.name)
        if state is None:
            return []
        endpoints = [p["endpoint"] for p in live_peers if p.get("endpoint")]
        choice = netconf.choose_mtu(conf, endpoints)
        before = state.mtu_choice
        changed = netconf.set_mtu(state, choice)
        if state.mtu_choice != before:
            netconf.save_state(state)
    return [f"{conf.name}: MTU {choice.mtu}: {choice.reason}"] if changed else []
