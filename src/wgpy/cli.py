"""`wgpy`, the command line: one dispatch table, argument parsing and printing only.

    wgpy [-c DIR] up [IFNAME|--all] [--netifd]    wgpy [-c DIR] status [--json]
    wgpy [-c DIR] down [IFNAME|--all] [--netifd]  wgpy genkey | pubkey | genpsk
    wgpy [-c DIR] reload [IFNAME|--all]           wgpy [-c DIR] showconf IFNAME
    wgpy [-c DIR] watchdog                        (cron, every minute)
    wgpy [-c DIR] mtu                             (netifd's iface hotplug)
    wgpy [-c DIR] web [--listen ADDR:PORT] [--webroot DIR] [--passwd-file FILE] [-v]
    wgpy passwd [--passwd-file FILE]              (the web UI's password)

`-c DIR` reads DIR/network instead of /etc/config/network, as `uci -c DIR` does. Errors
go to stderr and make the exit status 1; skipped peers are warnings (status 0).
This is the only module that imports both wgpy.router and wgpy.web (nothing under router/
may import web/); the work itself is in router/control.py and web/cli.py, imported only
when their command runs, so `wgpy up` on a router does not load the web server.
"""

import argparse
import json
import sys
import time
from typing import List, Optional

from wgpy import keys
from wgpy.router import control, handlers
from wgpy.uapi import client
from wgpy.uci.store import DEFAULT_CONFDIR, Store, UciError


def _targets(p: argparse.ArgumentParser) -> None:
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("ifname", nargs="?", metavar="IFNAME")
    target.add_argument("--all", action="store_true", help="every wgpy interface in UCI")


def _up_arguments(p: argparse.ArgumentParser) -> None:
    _targets(p)
    p.add_argument("--netifd", action="store_true",
                   help="leave addresses and routes to netifd; print them instead")


def _down_arguments(p: argparse.ArgumentParser) -> None:
    _targets(p)
    p.add_argument("--netifd", action="store_true", help="netifd's teardown: keep the kill switch")


def _web_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--listen", metavar="ADDR:PORT",
                   help="default: UCI wgpy.web.listen, else 127.0.0.1:8080")
    p.add_argument("--webroot", metavar="DIR", help="the page's files (default: the copy "
                   "inside the wgpy package, else the OpenWrt package's)")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request")
    _passwd_arguments(p)


def _passwd_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--passwd-file", metavar="FILE",
                   help="where wgpy's own password hash is kept (default: "
                        "$WGPY_WEB_PASSWD, else wgpy's file under /etc/wgpy)")
    p.add_argument("--shadow", help=argparse.SUPPRESS)   # tests: another /etc/shadow


def _no_arguments(p: argparse.ArgumentParser) -> None:
    pass


def _report(results: List[control.Result]) -> int:
    status = 0
    for result in results:
        for line in result.errors:
            sys.stderr.write(f"wgpy: {line}\n")
        for line in result.warnings:
            sys.stderr.write(f"wgpy: warning: {line}\n")
        for line in result.netifd_lines:
            print(line)
        status |= 0 if result.ok else 1
    return status


def _run(store: Store, args) -> List[control.Result]:
    if not args.all:
        if args.command == "up":
            return [control.up(store, args.ifname, netifd=args.netifd)]
        if args.command == "down":
            return [control.down(args.ifname, netifd=args.netifd)]
        return [control.reload(store, args.ifname)]
    act, stop = control.all_targets(store, args.command)
    step = {"up": lambda n: control.up(store, n, netifd=args.netifd),
            "reload": lambda n: control.reload(store, n)}.get(args.command)
    return [step(n) for n in act] + [control.down(n) for n in stop]


def _age(seconds: Optional[int]) -> str:
    if seconds is None:
        return "never"
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


def _print_status(status: dict) -> None:
    for error in status["errors"]:
        print(f"error: {error}")
    for ifname, iface in status["interfaces"].items():
        print(f"interface: {ifname} ({'up' if iface['up'] else 'down'})")
        if iface["public_key"]:
            print(f"  public key: {iface['public_key']}\n  listening port: "
                  f"{iface['listen_port']}")
        if iface["addresses"]:
            print(f"  addresses: {', '.join(iface['addresses'])}")
        if iface.get("mtu_in_use"):
            print(f"  mtu: {iface['mtu_in_use']['mtu']} ({iface['mtu_in_use']['reason']})")
        for error in iface["errors"]:
            print(f"  error: {error['message']} (section '{error['section']}', "
                  f"option '{error['option']}')")
        for peer in iface["peers"]:
            _print_peer(peer)
        print()


def _print_peer(peer: dict) -> None:
    name = peer.get("description") or peer.get("section") or "untitled"
    print(f"  peer: {name} {peer.get('public_key', '')} [{peer['state']}]")
    if peer.get("endpoint"):
        print(f"    endpoint: {peer['endpoint']}")
    if peer.get("allowed_ips"):
        print(f"    allowed ips: {', '.join(peer['allowed_ips'])}")
    if "handshake_age_s" in peer:
        print(f"    latest handshake: {_age(peer['handshake_age_s'])}\n    transfer: "
              f"{peer['rx_bytes']} B received, {peer['tx_bytes']} B sent")
    for error in peer.get("errors", []):
        print(f"    error: {error['message']} (option '{error['option']}')")


def _showconf(store: Store, ifname: str) -> int:
    """The running device in `wg showconf` form, with UCI descriptions as comments."""
    try:
        dev = client.get(ifname)
    except client.UapiError as exc:
        sys.stderr.write(f"wgpy: {exc}\n")
        return 1
    snap = control.gather(store)
    conf = snap.configs.get(ifname)
    print("[Interface]")
    for key, label in (("listen_port", "ListenPort"), ("fwmark", "FwMark")):
        if dev.get(key):
            print(f"{label} = {dev[key]}")
    if dev.get("private_key"):
        print(f"PrivateKey = {dev['private_key']}")
    for peer in dev["peers"]:
        configured = conf.peer(peer["public_key"]) if conf else None
        print()
        if configured is not None and configured.description:
            print(f"# {configured.description}")
        print(f"[Peer]\nPublicKey = {peer['public_key']}")
        if peer.get("preshared_key", "A" * 43 + "=") != "A" * 43 + "=":
            print(f"PresharedKey = {peer['preshared_key']}")
        if peer["allowed_ips"]:
            print(f"AllowedIPs = {', '.join(peer['allowed_ips'])}")
        if peer.get("endpoint"):
            print(f"Endpoint = {peer['endpoint']}")
        if peer.get("persistent_keepalive_interval"):
            print(f"PersistentKeepalive = {peer['persistent_keepalive_interval']}")
    return 0


def _change(args) -> int:
    """up, down or reload."""
    return _report(_run(Store(args.confdir), args))


def _genkey(args) -> int:
    print(keys.generate())
    return 0


def _pubkey(args) -> int:
    public = keys.public_key(sys.stdin.read().strip())
    if public is None:
        sys.stderr.write("wgpy: Key is not the correct length or format\n")
        return 1
    print(public)
    return 0


def _status(args) -> int:
    status = handlers.wgpy_status(control.gather(Store(args.confdir)))
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        _print_status(status)
    return 1 if status["errors"] else 0


def _print_messages(messages: List[str]) -> int:
    for message in messages:
        print(f"wgpy: {message}")
    return 0


def _watchdog(args) -> int:
    # Each run is a new process (cron's): no earlier attempts to space out.
    return _print_messages(control.watchdog_round(Store(args.confdir), {}, time.monotonic()))


def _web(args) -> int:
    from wgpy.web import cli as web
    return web.serve(args.confdir, args.listen, args.webroot, args.passwd_file, args.shadow,
                     args.verbose)


def _passwd(args) -> int:
    from wgpy.web import cli as web
    return web.passwd(args.passwd_file, args.shadow)


# name -> (help, add the command's arguments, run it: -> exit status)
COMMANDS = {
    "up": ("start wgpyd and apply keys, peers, addresses and routes", _up_arguments, _change),
    "down": ("stop wgpyd and remove what up added", _down_arguments, _change),
    "reload": ("apply UCI changes live; unchanged peers keep their sessions", _targets, _change),
    "status": ("interfaces, peers, handshakes, transfer, config errors",
               lambda p: p.add_argument("--json", action="store_true"), _status),
    "showconf": ("the running config in wg-quick form, descriptions as comments",
                 lambda p: p.add_argument("ifname", metavar="IFNAME"),
                 lambda args: _showconf(Store(args.confdir), args.ifname)),
    "genkey": ("a new private key (as wg genkey)", _no_arguments, _genkey),
    "pubkey": ("the public key of the private key on stdin (as wg pubkey)", _no_arguments,
               _pubkey),
    "genpsk": ("a new preshared key (as wg genpsk)", _no_arguments, _genkey),
    "watchdog": ("one round of the endpoint watchdog (cron runs it every minute): re-resolve "
                 "stale hostname endpoints, add peers DNS kept out, restart standalone "
                 "interfaces whose wgpyd died, follow the MTU", _no_arguments, _watchdog),
    "mtu": ("choose the automatic MTU of the running interfaces again (netifd's iface "
            "hotplug runs it when the WAN comes up or changes)", _no_arguments,
            lambda args: _print_messages(control.mtu_round(Store(args.confdir)))),
    "web": ("serve the web UI", _web_arguments, _web),
    "passwd": ("set the web UI's password (when root has none in /etc/shadow)",
               _passwd_arguments, _passwd),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wgpy", description="WireGuard on OpenWrt, from UCI")
    parser.add_argument("-c", dest="confdir", default=DEFAULT_CONFDIR, metavar="DIR",
                        help="UCI config directory (default %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=text, description=text))
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of `wgpy`."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return COMMANDS[args.command][2](args)
    except (UciError, control.OperationError) as exc:
        sys.stderr.write(f"wgpy: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
