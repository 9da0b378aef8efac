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

import json
import sys
from collections import OrderedDict

from wgpy import keys
from wgpy.router import control, handlers
from wgpy.uapi import client
from wgpy.runtime.system import monotonic
from wgpy.uci.store import DEFAULT_CONFDIR, Store, UciError


def _report(results: list[control.Result]) -> int:
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


def _run(store: Store, args) -> list[control.Result]:
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


def _age(seconds: "int | None") -> str:
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
        print(json.dumps(status))
    else:
        _print_status(status)
    return 1 if status["errors"] else 0


def _print_messages(messages: list) -> int:
    for message in messages:
        print(f"wgpy: {message}")
    return 0


def _watchdog(args) -> int:
    # Each run is a new process (cron's): no earlier attempts to space out.
    return _print_messages(control.watchdog_round(Store(args.confdir), {}, monotonic()))


def _web(args) -> int:
    from wgpy.web import cli as web
    return web.serve(args.confdir, args.listen, args.webroot, args.passwd_file, args.shadow,
                     args.verbose)


def _passwd(args) -> int:
    from wgpy.web import cli as web
    return web.passwd(args.passwd_file, args.shadow)


# name -> (help, its arguments, run it: -> exit status). An argument is "NAME" (a word),
# "--flag", "--option VALUE", or "IFNAME|--all" (exactly one of the two); -v is --verbose.
COMMANDS = OrderedDict((  # in this order in the usage, on MicroPython too
    ("up", ("start wgpyd and apply keys, peers, addresses and routes",
            ("IFNAME|--all", "--netifd"), _change)),
    ("down", ("stop wgpyd and remove what up added (--netifd: netifd's teardown, keeping the "
              "kill switch)", ("IFNAME|--all", "--netifd"), _change)),
    ("reload", ("apply UCI changes live; unchanged peers keep their sessions",
                ("IFNAME|--all",), _change)),
    ("status", ("interfaces, peers, handshakes, transfer, config errors", ("--json",), _status)),
    ("showconf", ("the running config in wg-quick form, descriptions as comments", ("IFNAME",),
                  lambda args: _showconf(Store(args.confdir), args.ifname))),
    ("genkey", ("a new private key (as wg genkey)", (), _genkey)),
    ("pubkey", ("the public key of the private key on stdin (as wg pubkey)", (), _pubkey)),
    ("genpsk", ("a new preshared key (as wg genpsk)", (), _genkey)),
    ("watchdog", ("one round of the endpoint watchdog (cron runs it every minute): re-resolve "
                  "stale hostname endpoints, add peers DNS kept out, restart standalone "
                  "interfaces whose wgpyd died, follow the MTU", (), _watchdog)),
    ("mtu", ("choose the automatic MTU of the running interfaces again (netifd's iface "
             "hotplug runs it when the WAN comes up or changes)", (),
             lambda args: _print_messages(control.mtu_round(Store(args.confdir))))),
    ("web", ("serve the web UI (default address: UCI wgpy.web.listen, else 127.0.0.1:8080)",
             ("--listen ADDR:PORT", "--webroot DIR", "--verbose", "--passwd-file FILE",
              "--shadow FILE"), _web)),
    ("passwd", ("set the web UI's password (when root has none in /etc/shadow)",
                ("--passwd-file FILE", "--shadow FILE"), _passwd)),
))


class UsageError(Exception):
    """A command line that does not fit COMMANDS."""


class Arguments:
    """The parsed command line: confdir, command, and one attribute per argument of the
    command (IFNAME -> ifname, --passwd-file -> passwd_file), None or False when absent."""

    def __init__(self, confdir: str, command: str) -> None:
        self.confdir, self.command = confdir, command


def _name(word: str) -> str:
    return word.lstrip("-").lower().replace("-", "_")


def parse(argv: list) -> Arguments:
    """The command line as COMMANDS describes it; UsageError if it does not fit. Written out
    rather than argparse: MicroPython's argparse has no subcommands."""
    words = list(argv)
    confdir = DEFAULT_CONFDIR
    if words[:1] == ["-c"]:
        if len(words) < 2:
            raise UsageError("-c needs a directory")
        confdir, words = words[1], words[2:]
    if not words or words[0] not in COMMANDS:
        raise UsageError(f"unknown command {words[0]!r}" if words else "a command is needed")
    args = Arguments(confdir, words.pop(0))
    positional, switches, options = [], {}, {}
    for item in COMMANDS[args.command][1]:
        for word in item.split("|"):
            flag, _, value = word.partition(" ")
            if not flag.startswith("-"):
                positional.append(flag)
            (options if value else switches)[flag] = None
            setattr(args, _name(flag), None if value or not flag.startswith("-") else False)
    if "--verbose" in switches:
        switches["-v"] = None
    while words:
        word = words.pop(0)
        if word in switches:
            setattr(args, _name("--verbose" if word == "-v" else word), True)
        elif word in options and words:
            setattr(args, _name(word), words.pop(0))
        elif not word.startswith("-") and positional \
                and getattr(args, _name(positional[0])) is None:
            setattr(args, _name(positional.pop(0)), word)
        else:
            raise UsageError(f"{args.command}: unrecognized arguments: {word}")
    for item in COMMANDS[args.command][1]:
        given = [w for w in item.split("|") if getattr(args, _name(w.partition(" ")[0]))]
        if "|" in item and len(given) != 1 or not item.startswith("-") and not given:
            raise UsageError(f"{args.command} takes {' or '.join(item.split('|'))}"
                             + (", not both" if len(given) > 1 else ""))
    return args


def _synopsis(name: str) -> str:
    spec = COMMANDS[name][1]
    words = " ".join(w if "|" in w or not w.startswith("-") else f"[{w}]" for w in spec)
    return f"wgpy {name} {words}".rstrip()


def usage(command: "str | None" = None) -> str:
    """`wgpy --help`, or `wgpy COMMAND --help`."""
    if command is not None:
        return f"usage: {_synopsis(command)}\n\n{COMMANDS[command][0]}\n"
    lines = ["usage: wgpy [-c DIR] COMMAND ...", "",
             f"WireGuard on OpenWrt, from UCI. -c DIR: UCI configs in DIR (default "
             f"{DEFAULT_CONFDIR}). `wgpy COMMAND --help` for its arguments.", "", "commands:"]
    lines += [f"    {name:9} {text}" for name, (text, _, _) in COMMANDS.items()]
    return "\n".join(lines) + "\n"


def main(argv: "list[str] | None" = None) -> int:
    """Entry point of `wgpy`."""
    argv = sys.argv[1:] if argv is None else argv
    words = argv[2:] if argv[:1] == ["-c"] else argv
    if words[:1] in (["-h"], ["--help"]):
        print(usage(), end="")
        return 0
    if words[:1] and words[0] in COMMANDS and {"-h", "--help"} & set(words[1:]):
        print(usage(words[0]), end="")
        return 0
    try:
        args = parse(argv)
    except UsageError as exc:
        sys.stderr.write(f"wgpy: {exc}\n{usage()}")
        return 2
    try:
        return COMMANDS[args.command][2](args)
    except (UciError, control.OperationError) as exc:
        sys.stderr.write(f"wgpy: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
