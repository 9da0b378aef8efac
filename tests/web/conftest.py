"""Fixtures for the web UI tests: a UCI config directory, the server running in-process on
a free port, and a client of it (webclient.py) that keeps its session id.

The server binds 127.0.0.1 only. The netns/browser tests (test_browser.py) build their own
router namespace and run `wgpy web` there; see that file.
"""

import os
import shutil
import threading

import pytest

from wgpy.uci.store import Store
from wgpy.web import auth, cli, jsonrpc, methods, server
from webclient import Client
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


@pytest.fixture(scope="session")
def password_hash():
    """Hashed once: scrypt is slow on purpose."""
    return auth.hash_password(PASSWORD)


@pytest.fixture
def web(confdir, tmp_path, password_hash):
    """(Client, Endpoint) for a server over `confdir`, with the wgpy password set."""
    (tmp_path / "web.passwd").write_text(password_hash)
    passwords = auth.Passwords(str(tmp_path / "web.passwd"), str(tmp_path / "no-shadow"))
    app = jsonrpc.Endpoint(methods.Context(store=Store(str(confdir))), passwords)
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
    assert c.login()[0] == 0
    return c
