"""`wgpy web` and `wgpy passwd`: start-up only (wgpy/cli.py parses their options).

The listen address comes from --listen, else from UCI `wgpy.web.listen` (section `web` of
config `wgpy` in DIR), else 127.0.0.1:8080, so a development box never exposes the page.
`wgpy passwd` reads the new password twice from the terminal, or once from stdin when it
is not a terminal (for scripts).
"""

import getpass
import os
import sys
from typing import Optional

from wgpy.uci import edit
from wgpy.uci.store import Store
from wgpy.web import auth, jsonrpc, methods, server

DEFAULT_LISTEN = "127.0.0.1:8080"
# The page ships inside the package (wgpy/webui: a source checkout, a wheel); the OpenWrt
# package leaves that copy out and installs the page under uhttpd's docroot, /www/wgpy.
WEBROOTS = (os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "webui"),
            "/www/wgpy")


def default_webroot() -> str:
    for path in WEBROOTS:
        if os.path.isfile(os.path.join(path, "index.html")):
            return path
    return WEBROOTS[-1]


def _uci_listen(store: Store) -> Optional[str]:
    for entry in edit.sections_of(store, "wgpy", "web"):
        if entry.get("listen"):
            return entry["listen"].split()[0]
    return None


def _passwords(passwd_file: Optional[str], shadow: Optional[str]) -> auth.Passwords:
    """--passwd-file, else $WGPY_WEB_PASSWD, else wgpy's own file; --shadow for tests."""
    return auth.Passwords(passwd_file or os.environ.get("WGPY_WEB_PASSWD", auth.PASSWD_FILE),
                          shadow or auth.SHADOW)


def _ask_password() -> str:
    """Twice from a terminal, once from a pipe."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New wgpy web password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise ValueError("the passwords do not match")
    return first


def passwd(passwd_file: Optional[str] = None, shadow: Optional[str] = None) -> int:
    """`wgpy passwd`: -> exit status."""
    passwords = _passwords(passwd_file, shadow)
    try:
        passwords.set(_ask_password())
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"wgpy passwd: {exc}\n")
        return 1
    if auth.root_hash(passwords.shadow_path) is not None:
        sys.stderr.write("wgpy passwd: note: root has a password in /etc/shadow; the page "
                         "asks for that one\n")
    return 0


def _first_start(passwords: auth.Passwords) -> Optional[str]:
    """No password anywhere yet: ask on a terminal; else -> a one-time setup code, printed
    here (the system log under procd), which the page asks for with the new password."""
    if passwords.source() is not None:
        return None
    if sys.stdin.isatty():
        passwords.set(_ask_password())
        return None
    code = auth.new_setup_code()
    sys.stderr.write(f"wgpy web: no password is set yet; open the page and enter the setup "
                     f"code {code} with a new password (or run `wgpy passwd`)\n")
    return code


def serve(confdir: str, listen: Optional[str] = None, webroot: Optional[str] = None,
          passwd_file: Optional[str] = None, shadow: Optional[str] = None,
          verbose: bool = False) -> int:
    """`wgpy web`: serve until interrupted; -> exit status."""
    store = Store(confdir)
    webroot = webroot or default_webroot()
    passwords = _passwords(passwd_file, shadow)
    try:
        address = server.parse_listen(listen or _uci_listen(store) or DEFAULT_LISTEN)
        setup_code = _first_start(passwords)
        endpoint = jsonrpc.Endpoint(methods.Context(store=store), passwords,
                                    setup_code=setup_code)
        httpd = server.Server(address, endpoint, webroot, verbose)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"wgpy web: {exc}\n")
        return 1
    sys.stderr.write(f"wgpy web: serving {webroot} on {address[0]} port {address[1]}\n")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0
