"""The wgpy web UI in the demo: started inside the router namespace on its LAN address (where a
router's admin page lives), with a throw-away password, plus a forwarder so a browser on this
machine can open it.

The forwarder listens on the host's loopback only and opens each upstream connection from a
thread that has joined the router namespace (setns(2) through ctypes: Python 3.11 has no
os.setns). So no address is added outside the demo's namespaces and the page is never
exposed beyond this machine.
"""

import ctypes
import json
import os
import secrets
import socket
import sys
import threading
import urllib.request

from support.netns import Lab
from support.procs import wait_for

CLONE_NEWNET = 0x40000000
PYTHON = sys.executable


def usable() -> bool:
    """True when the web UI module is there (it is being written beside the demo)."""
    try:
        from wgpy import web  # noqa: F401
        from wgpy.web import cli  # noqa: F401
    except ImportError:
        return False
    return True


def start(lab: Lab, ns: str, confdir: str, listen: str, env: dict) -> str:
    """Set a fresh password and start `wgpy web` in `ns`; -> the password."""
    password = secrets.token_urlsafe(9)
    passwd_file = os.path.join(lab.tmp, "web.passwd")
    # --shadow points at a file that does not exist: otherwise root's own /etc/shadow
    # password would be the one the page asks for, and the demo could not tell it.
    no_shadow = os.path.join(lab.tmp, "no-shadow")
    auth = ["--passwd-file", passwd_file, "--shadow", no_shadow]
    lab.run(ns, PYTHON, "-m", "wgpy.cli", "passwd", *auth, input=password + "\n", env=env)
    lab.spawn("webui", ns, PYTHON, "-m", "wgpy.cli", "-c", confdir, "web", *auth,
              "--listen", listen, env=env)
    host, port = listen.rsplit(":", 1)
    wait_for(lambda: lab.ok(ns, PYTHON, "-c", f"import socket; socket.create_connection("
                            f"('{host}', {port}), 2).close()"),
             f"the web UI on {listen} (log: {lab.log_tail('webui')})", timeout=15)
    return password


def login_and_status(lab: Lab, ns: str, url: str, password: str) -> dict:
    """Log in to the page from `ns` as its rpc.js does (ubus JSON-RPC at /ubus: `session
    login`, then `wgpy status` with the session id); -> the status."""
    code = (
        "import json, sys, urllib.request\n"
        "def call(sid, obj, method, args):\n"
        "    req = urllib.request.Request(sys.argv[1] + '/ubus', method='POST', headers={\n"
        "        'Content-Type': 'application/json'}, data=json.dumps({'jsonrpc': '2.0',\n"
        "        'id': 1, 'method': 'call', 'params': [sid, obj, method, args]}).encode())\n"
        "    return json.loads(urllib.request.urlopen(req, timeout=10).read())['result']\n"
        "status, reply = call('0' * 32, 'session', 'login',\n"
        "                     {'username': 'root', 'password': sys.argv[2]})\n"
        "assert status == 0, 'login refused'\n"
        "print(json.dumps(call(reply['ubus_rpc_session'], 'wgpy', 'status', {})[1]))\n")
    return json.loads(lab.run(ns, PYTHON, "-c", code, url, password).stdout)


def fetch_via_host(port: int) -> int:
    """GET / through the forwarder, from this (the host's) namespace; -> HTTP status."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        return response.status


class Forwarder:
    """127.0.0.1:PORT on the host -> ADDR:PORT inside namespace `ns`."""

    def __init__(self, ns: str, upstream, port: int) -> None:
        self.ns_path = f"/var/run/netns/{ns}"
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", port))
        self.port = self.listener.getsockname()[1]
        self.open = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()
        with self.lock:
            for sock in list(self.open):
                _shut(sock)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            _join_netns(self.ns_path)  # this thread only; it ends with the connection
            upstream = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self.lock:
            self.open.update((client, upstream))
        threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
        _pump(client, upstream)
        with self.lock:
            self.open.difference_update((client, upstream))


def _join_netns(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
    finally:
        os.close(fd)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    _shut(src)
    _shut(dst)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
