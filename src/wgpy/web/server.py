"""The HTTP side of `wgpy web`: stdlib http.server, one thread per connection.

`/api/...` goes to api.Api; everything else is a static file under the web root (webui/),
GET or HEAD only. The guards live here: request bodies over MAX_BODY_BYTES are refused
unread (413), API bodies must be JSON (415 otherwise, which also stops cross-site HTML
forms), static paths never leave the web root, and every answer carries a strict
Content-Security-Policy, so even a slipped-through string cannot run as script.
"""

import http.server
import json
import os
import socket
import sys
from http.cookies import CookieError, SimpleCookie
from typing import Optional, Tuple
from urllib.parse import unquote, urlsplit

from wgpy.web import api

MAX_BODY_BYTES = 64 * 1024
REQUEST_TIMEOUT_S = 30  # a client that stalls mid-request loses its thread after this
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


class Handler(http.server.BaseHTTPRequestHandler):
    """One request; the server object carries `api` and `webroot`."""

    server_version = "wgpy"
    sys_version = ""
    protocol_version = "HTTP/1.1"
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
        try:
            return None, json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            return 400, None

    def _session_token(self) -> Optional[str]:
        try:
            morsel = SimpleCookie(self.headers.get("Cookie") or "").get(api.COOKIE)
        except CookieError:
            return None
        return morsel.value if morsel else None

    def _api(self) -> None:
        status, body = self._read_body()
        if status is not None:
            self.close_connection = True  # the unread body must not be parsed as a request
            messages = {400: "the body is not valid JSON", 411: "Content-Length required",
                        413: f"the body is larger than {MAX_BODY_BYTES} bytes",
                        415: "the body must be application/json"}
            self._send_json(status, {"error": messages[status]})
            return
        request = api.Request(self.command, unquote(urlsplit(self.path).path), body,
                              self._session_token(), self.headers.get("X-CSRF-Token"),
                              self.client_address[0])
        response = self.server.api.handle(request)
        self._send_json(response.status, response.body, response.headers)

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
        if urlsplit(self.path).path.startswith("/api/"):
            self._api()
        else:
            self._static()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: Tuple[str, int], api_: api.Api, webroot: str,
                 verbose: bool = False) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.api, self.webroot, self.verbose = api_, webroot, verbose
        super().__init__(address, Handler)


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
