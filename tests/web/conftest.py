"""Fixtures for the web UI tests: a UCI config directory, the server running in-process on
a free port, and a small HTTP client that keeps the session cookie and CSRF token.

The server binds 127.0.0.1 only. The netns/browser tests (test_browser.py) build their own
router namespace and run `wgpy web` there; see that file.
"""

import http.client
import json
import os
import shutil
import threading

import pytest

from wgpy.uci.store import Store
from wgpy.web import actions, api, auth, cli, server
from webdata import NETWORK, PASSWORD

WEBROOT = cli.default_webroot()


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's chromium, zbarimg and the playwright module.

    `make test` installs them, so under CI a missing one is a failure, not a skip."""
    missing = [p for p in ("/usr/bin/chromium", shutil.which("zbarimg") or "/nonexistent/zbarimg")
               if not os.path.exists(p)]
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright (pip)")
    if missing and not os.environ.get("CI"):
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=f"missing {', '.join(missing)}"))


@pytest.fixture
def confdir(tmp_path):
    path = tmp_path / "config"
    path.mkdir()
    (path / "network").write_text(NETWORK)
    (path / "system").write_text("\nconfig system\n\toption hostname 'testrouter'\n")
    return path


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


@pytest.fixture(scope="session")
def password_hash():
    """Hashed once: scrypt is slow on purpose."""
    return auth.hash_password(PASSWORD)


@pytest.fixture
def web(confdir, tmp_path, password_hash):
    """(Client, Api) for a server over `confdir`, with the wgpy password set."""
    (tmp_path / "web.passwd").write_text(password_hash)
    passwords = auth.Passwords(str(tmp_path / "web.passwd"), str(tmp_path / "no-shadow"))
    app = api.Api(actions.Context(Store(str(confdir))), passwords)
    httpd = server.Server(("127.0.0.1", 0), app, WEBROOT)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield Client(httpd.server_address[1]), app
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def client(web):
    """A logged-in client."""
    c = web[0]
    assert c.login()[0] == 200
    return c
