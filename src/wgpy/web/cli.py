"""`wgpy web` and `wgpy passwd`: argument parsing and start-up only.

    wgpy [-c DIR] web [--listen ADDR:PORT] [--webroot DIR] [--passwd-file FILE] [-v]
    wgpy passwd [--passwd-file FILE]

The listen address comes from --listen, else from UCI `wgpy.web.listen` (section `web` of
config `wgpy` in DIR), else 127.0.0.1:8080, so a development box never exposes the page.
`wgpy passwd` reads the new password twice from the terminal, or once from stdin when it
is not a terminal (for scripts).
"""

import argparse
import getpass
import os
import sys
from typing import List, Optional

from wgpy.uci.store import DEFAULT_CONFDIR, Store
from wgpy.uci import edit
from wgpy.web import actions, api, auth, server

DEFAULT_LISTEN = "127.0.0.1:8080"
_HERE = os.path.dirname(os.path.abspath(__file__))
# A source checkout serves ../../../webui; an installed package, the packaged copy.
WEBROOTS = (os.path.join(_HERE, "..", "..", "..", "webui"), "/usr/share/wgpy/webui")


def default_webroot() -> str:
    for path in WEBROOTS:
        if os.path.isfile(os.path.join(path, "index.html")):
            return os.path.realpath(path)
    return WEBROOTS[-1]


def _uci_listen(store: Store) -> Optional[str]:
    for entry in edit.sections_of(store, "wgpy", "web"):
        if entry.get("listen"):
            return entry["listen"].split()[0]
    return None


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("-c", dest="confdir", default=DEFAULT_CONFDIR, metavar="DIR",
                        help="UCI config directory (default %(default)s)")
    parser.add_argument("--passwd-file", default=os.environ.get("WGPY_WEB_PASSWD",
                                                                auth.PASSWD_FILE),
                        help="where wgpy's own password hash is kept")
    parser.add_argument("--shadow", default=auth.SHADOW, help=argparse.SUPPRESS)
    return parser


def _ask_password() -> str:
    """Twice from a terminal, once from a pipe."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New wgpy web password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise ValueError("the passwords do not match")
    return first


def passwd_main(argv: Optional[List[str]] = None) -> int:
    """Entry point of `wgpy passwd`."""
    args = _parser("wgpy passwd").parse_args(argv)
    try:
        auth.Passwords(args.passwd_file, args.shadow).set(_ask_password())
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"wgpy passwd: {exc}\n")
        return 1
    if auth.root_hash(args.shadow) is not None:
        sys.stderr.write("wgpy passwd: note: root has a password in /etc/shadow; the page "
                         "asks for that one\n")
    return 0


def _first_start(passwords: auth.Passwords) -> None:
    """No password anywhere yet: ask on a terminal, else the first visitor sets it."""
    if passwords.source() is not None:
        return
    if sys.stdin.isatty():
        passwords.set(_ask_password())
    else:
        sys.stderr.write("wgpy web: no password is set yet; the first visitor of the page "
                         "chooses it (or run `wgpy passwd`)\n")


def web_main(argv: Optional[List[str]] = None) -> int:
    """Entry point of `wgpy web`: serve until interrupted."""
    parser = _parser("wgpy web")
    parser.add_argument("--listen", metavar="ADDR:PORT", help=f"default {DEFAULT_LISTEN}")
    parser.add_argument("--webroot", default=default_webroot(), metavar="DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    store = Store(args.confdir)
    passwords = auth.Passwords(args.passwd_file, args.shadow)
    try:
        address = server.parse_listen(args.listen or _uci_listen(store) or DEFAULT_LISTEN)
        _first_start(passwords)
        httpd = server.Server(address, api.Api(actions.Context(store), passwords),
                              args.webroot, args.verbose)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"wgpy web: {exc}\n")
        return 1
    sys.stderr.write(f"wgpy web: serving {args.webroot} on {address[0]} port {address[1]}\n")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(web_main())
