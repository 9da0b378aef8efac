"""The tests' HTTP client (a module of its own, as webdata.py, so test files can import it)."""

import http.client
import json

from webdata import PASSWORD


class Client:
    """HTTP/1.1 to the test server; remembers the session cookie and CSRF token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = None
        self.csrf = None

    def raw(self, method, path, body=b"", headers=None):
        """Send exactly this request; -> (status, headers dict, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        hdrs = dict(headers or {})
        if self.cookie:
            hdrs.setdefault("Cookie", self.cookie)
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in hdrs.items():
            conn.putheader(name, value)
        if body or method in ("POST", "PUT"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def call(self, method, path, data=None, csrf=True):
        """JSON request with the CSRF header (unless csrf=False); -> (status, json)."""
        headers = {}
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        body = b""
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        status, _, raw = self.raw(method, path, body, headers)
        return status, json.loads(raw or b"{}")

    def login(self, password=PASSWORD):
        status, headers, raw = self.raw("POST", "/api/login", json.dumps(
            {"password": password}).encode(), {"Content-Type": "application/json"})
        if status == 200:
            self.cookie = headers["set-cookie"].split(";")[0]
            self.csrf = json.loads(raw)["csrf"]
        return status, headers
