"""The HTTP side of `wgpy web`: stdlib http.server, one thread per connection.

POST /ubus is ubus JSON-RPC (jsonrpc.py), as uhttpd serves it on a router; everything else
is a static file under the web root (webui/), GET or HEAD only. The guards live here: /ubus
requests must name the router in Host (421 otherwise, against DNS rebinding: hosts.py),
request bodies over MAX_BODY_BYTES are refused unread (413), /ubus bodies must be JSON (415
otherwise, which also stops cross-site HTML forms) nested at most MAX_JSON_DEPTH deep (400),
static paths never leave the web root, and every answer, the server's own error pages
included, carries a strict Content-Security-Policy, so even a slipped-through string cannot
run as script.
"""

import http.server
import json
import os
import re
import socket
import sys
import threading
import traceback
from typing import Dict, Optional, Tuple
from urllib.parse import unquote, urlsplit

from wgpy.web import auth, hosts, jsonrpc

UBUS_PATH = "/ubus"  # uhttpd's default (`-u /ubus`), where the page sends its calls
MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 8  # a call nests 4 deep (params, args, a list); deeper only costs stack
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
REQUEST_TIMEOUT_S = 30  # a client that stalls mid-request loses its thread after this
MAX_CONNECTIONS = 32
MAX_CONNECTIONS_PER_SOURCE = 8  # a browser opens at most 6 per host
LISTEN_BACKLOG = 128
M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
MMAP_THRESHOLD_BYTES = 1024 * 1024
MIME = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8", ".json": "application/json",
        ".png": "image/png", ".svg": "image/svg+xml", ".ico": "image/x-icon"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data: blob:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def static_path(root: str, url_path: str) -> Optional[str]:
    """The file under `root` that `url_path` names, or None if it would leave `root`, is
    hidden, is not a regular file or has a type we do not serve."""
    path = unquote(url_path)
    if path in ("", "/"):
        path = "/index.html"
    parts = path.split("/")[1:]
    if any(p in ("", ".", "..") or p.startswith(".") or "\\" in p or "\0" in p for p in parts):
        return None
    real_root = os.path.realpath(root)
    full = os.path.realpath(os.path.join(real_root, *parts))
    if not full.startswith(real_root + os.sep) or not os.path.isfile(full):
        return None
    return full if os.path.splitext(full)[1] in MIME else None


def json_depth(data: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings do not
    count), without parsing it: the parser would recurse once per level."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b'""', data)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


class Handler(http.server.BaseHTTPRequestHandler):
    """One request; the server object carries `endpoint` and `webroot`."""

    server_version = "wgpy"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # HTTP/0.9 answers have no headers at all; no browser speaks it, so a request line
    # without a version is answered as HTTP/1.0, headers included.
    default_request_version = "HTTP/1.0"
    timeout = REQUEST_TIMEOUT_S

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            sys.stderr.write("wgpy web: %s %s\n" % (self.address_string(), format % args))

    def _send(self, status: int, body: bytes, content_type: str, headers=None) -> None:
        self.send_response(status)
        for name, value in {**SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, data: dict, headers=None) -> None:
        body = json.dumps(data).encode()
        self._send(status, body, "application/json", {"Cache-Control": "no-store",
                                                      **(headers or {})})

    def _read_body(self) -> Tuple[Optional[int], Optional[dict]]:
        """-> (error status or None, parsed JSON body or None)."""
        if self.headers.get("Transfer-Encoding"):
            return 411, None  # only Content-Length bodies: their size is known up front
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 400, None
        if length < 0:
            return 400, None
        if length > MAX_BODY_BYTES:
            return 413, None
        if length == 0:
            return None, None
        if self.headers.get_content_type() != "application/json":
            return 415, None
        data = self.rfile.read(length)
        if json_depth(data) > MAX_JSON_DEPTH:
            return 400, None
        try:
            return None, json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return 400, None

    def send_error(self, code: int, message: Optional[str] = None,
                   explain: Optional[str] = None) -> None:
        """http.server's own refusals (bad request line, unknown method, headers too
        long): JSON with the same headers as every other answer."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        self._send_json(code, {"error": message or self.responses.get(code, ("error",))[0]},
                        {"Connection": "close"})

    def _ubus(self) -> None:
        if self.command != "POST":
            self._send_json(405, {"error": "method not allowed"}, {"Allow": "POST"})
            return
        if not hosts.allowed(self.headers.get("Host"), self.server.endpoint.ctx.store,
                             self.server.listen_host):
            self.close_connection = True
            self._send_json(421, {"error": "unknown Host: open the page by the router's "
                                           "address or name"})
            return
        status, body = self._read_body()
        if status is not None:
            self.close_connection = True  # the unread body must not be parsed as a request
            messages = {400: f"the body is not valid JSON or nests more than "
                             f"{MAX_JSON_DEPTH} deep", 411: "Content-Length required",
                        413: f"the body is larger than {MAX_BODY_BYTES} bytes",
                        415: "the body must be application/json"}
            self._send_json(status, {"error": messages[status]})
            return
        self._send_json(200, self.server.endpoint.handle(body, self.client_address[0]))

    def _static(self) -> None:
        if self.command not in ("GET", "HEAD"):
            self._send_json(405, {"error": "method not allowed"}, {"Allow": "GET, HEAD"})
            return
        path = static_path(self.server.webroot, urlsplit(self.path).path)
        if path is None:
            self._send(404, b"not found\n", "text/plain; charset=utf-8")
            return
        with open(path, "rb") as f:
            data = f.read()
        self._send(200, data, MIME[os.path.splitext(path)[1]], {"Cache-Control": "no-cache"})

    def _dispatch(self) -> None:
        try:
            if urlsplit(self.path).path == UBUS_PATH:
                self._ubus()
            else:
                self._static()
        except Exception:  # noqa: BLE001 - one bad request must still get an answer
            sys.stderr.write(f"wgpy web: {self.command} {self.path}:\n{traceback.format_exc()}")
            self.close_connection = True
            self._send_json(500, {"error": "internal error (logged on the router)"})

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch


def return_big_blocks_to_the_system() -> None:
    """glibc raises its mmap threshold when the first big block is freed; after that each
    scrypt check's 8 MiB comes from the heap and stays there, so the idle server would keep
    its peak. A fixed threshold keeps big blocks in mmap, unmapped when freed. (musl, on
    OpenWrt, always unmaps big blocks; without glibc's mallopt this does nothing.)"""
    try:
        import ctypes
        mallopt = ctypes.CDLL(None).mallopt
    except (ImportError, OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


class Server(http.server.ThreadingHTTPServer):
    """One thread per connection, at most MAX_CONNECTIONS of them (each costs about 80 KiB
    of RSS) and MAX_CONNECTIONS_PER_SOURCE per source: a source over its share is
    disconnected at once; beyond the total, new connections wait in the listen queue."""
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: Tuple[str, int], endpoint: jsonrpc.Endpoint, webroot: str,
                 verbose: bool = False) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.endpoint, self.webroot, self.verbose = endpoint, webroot, verbose
        self.listen_host = address[0]
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._per_source: Dict[str, int] = {}
        self._count_lock = threading.Lock()
        return_big_blocks_to_the_system()
        super().__init__(address, Handler)

    def process_request(self, request, client_address) -> None:
        source = auth.source_of(client_address[0])
        with self._count_lock:
            if self._per_source.get(source, 0) >= MAX_CONNECTIONS_PER_SOURCE:
                self.shutdown_request(request)
                return
            self._per_source[source] = self._per_source.get(source, 0) + 1
        self._slots.acquire()
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            source = auth.source_of(client_address[0])
            with self._count_lock:
                self._per_source[source] -= 1
                if not self._per_source[source]:
                    del self._per_source[source]
            self._slots.release()


def parse_listen(text: str) -> Tuple[str, int]:
    """"ADDR:PORT" or "[V6]:PORT" -> (addr, port); raises ValueError."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    number = int(port)
    if not host or not 0 < number < 65536:
        raise ValueError(f"'{text}' is not ADDR:PORT")
    return host, number
