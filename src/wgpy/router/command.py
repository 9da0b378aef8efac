"""`wgpy`, the router command line: argument parsing and printing only.

    wgpy [-c DIR] up [IFNAME|--all] [--netifd]    wgpy [-c DIR] status [--json]
    wgpy [-c DIR] down [IFNAME|--all]             wgpy genkey | pubkey | genpsk
    wgpy [-c DIR] reload [IFNAME|--all]           wgpy [-c DIR] showconf IFNAME
    wgpy [-c DIR] ubus                            (the long-running service)
    wgpy [-c DIR] web [--listen ADDR:PORT] ...    wgpy passwd   (the web UI: wgpy.web)

`-c DIR` reads DIR/network instead of /etc/config/network, as `uci -c DIR` does. Errors
go to stderr and make the exit status 1; skipped peers are warnings (status 0).
The work itself is in control.py; this module must not grow logic of its own.
"""

import argparse
import base64
import json
import sys
from typing import List, Optional

from wgpy import crypto
from wgpy.router import control, handlers
from wgpy.uapi import client
from wgpy.uci.schema import is_key
from wgpy.uci.store import DEFAULT_CONFDIR, Store, UciError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wgpy", description="WireGuard on OpenWrt, from UCI")
    parser.add_argument("-c", dest="confdir", default=DEFAULT_CONFDIR, metavar="DIR",
                        help="UCI config directory (default %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "down", "reload"):
        p = sub.add_parser(name)
        target = p.add_mutually_exclusive_group(required=True)
        target.add_argument("ifname", nargs="?", metavar="IFNAME")
        target.add_argument("--all", action="store_true")
        if name == "up":
            p.add_argument("--netifd", action="store_true",
                           help="leave addresses and routes to netifd; print them instead")
        if name == "down":
            p.add_argument("--netifd", action="store_true",
                           help="netifd's teardown: keep the kill switch")
    sub.add_parser("status").add_argument("--json", action="store_true")
    for name in ("genkey", "pubkey", "genpsk", "ubus"):
        sub.add_parser(name)
    sub.add_parser("showconf").add_argument("ifname", metavar="IFNAME")
    # The web UI parses its own options (wgpy.web.cli); they are passed through untouched.
    for name in ("web", "passwd"):
        sub.add_parser(name, add_help=False).add_argument("rest", nargs=argparse.REMAINDER)
    return parser


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


def _keys(command: str) -> int:
    if command == "genkey":
        print(base64.b64encode(crypto.generate_private_key()).decode())
    elif command == "genpsk":
        print(handlers.wireguard_genpsk()["preshared"])
    else:
        private = sys.stdin.read().strip()
        if not is_key(private):
            sys.stderr.write("wgpy: Key is not the correct length or format\n")
            return 1
        print(handlers.wireguard_pubkey({"private": private})["public"])
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of `wgpy`."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command in ("genkey", "genpsk", "pubkey"):
        return _keys(args.command)
    if args.command in ("web", "passwd"):
        from wgpy import web
        entry = web.web_main if args.command == "web" else web.passwd_main
        return entry(["-c", args.confdir] + args.rest)
    store = Store(args.confdir)
    try:
        if args.command == "status":
            status = handlers.wgpy_status(control.gather(store))
            if args.json:
                print(json.dumps(status, indent=2))
            else:
                _print_status(status)
            return 1 if status["errors"] else 0
        if args.command == "showconf":
            return _showconf(store, args.ifname)
        if args.command == "ubus":
            from wgpy.router import service
            return service.run(store)
        return _report(_run(store, args))
    except (UciError, control.OperationError) as exc:
        sys.stderr.write(f"wgpy: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
