"""Issue #13 as a hostile LAN client saw it: login work before authentication, lock-outs
across addresses, deep JSON, the server's own error pages, DNS rebinding, and the open
first-start setup. Each test is one finding; figures are in docs/security.md, "Web UI".
"""

import io
import json
import socket
import threading
import time

import pytest

from webclient import NULL_SID, Client
from webdata import PASSWORD
from wgpy.uci.store import Store
from wgpy.web import auth, cli, hosts, jsonrpc, methods, server


class FakePasswords:
    """Passwords whose check takes `delay` seconds and records how many ran at once."""

    def __init__(self, delay=0.0):
        self.delay, self.running, self.most, self.checks = delay, 0, 0, 0
        self._lock = threading.Lock()

    def source(self):
        return "wgpy"

    def verify(self, password):
        with self._lock:
            self.running += 1
            self.checks += 1
            self.most = max(self.most, self.running)
        time.sleep(self.delay)
        with self._lock:
            self.running -= 1
        return password == PASSWORD


def make_api(confdir, passwords, **kw):
    return jsonrpc.Endpoint(methods.Context(store=Store(str(confdir))), passwords, **kw)


def call(app, client, obj, method, args):
    """One call with the null session from address `client`; -> its `result` list."""
    return app.handle({"jsonrpc": "2.0", "id": 1, "method": "call",
                       "params": [NULL_SID, obj, method, args]}, client)["result"]


def login_answer(app, client, password):
    return call(app, client, "session", "login", {"username": "root", "password": password})


def login(app, client, password):
    """-> "ok", "wrong" (permission denied), "locked" (too many failures) or "busy"."""
    result = login_answer(app, client, password)
    if result[0] == 0:
        return "ok"
    if len(result) == 1:
        return "wrong"
    return "locked" if "too many" in result[1]["error"] else "busy"


def ubus_request(header: bytes, body: bytes = b"") -> bytes:
    """A raw POST /ubus (wgpy.web info unless `body`) with these header lines."""
    body = body or json.dumps({"jsonrpc": "2.0", "id": 1, "method": "call", "params": [
        NULL_SID, "wgpy.web", "info", {}]}).encode()
    return (b"POST /ubus HTTP/1.1\r\n" + header + b"Content-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def raw(port, request: bytes) -> bytes:
    """Send bytes as they are (any Host, any request line); -> the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(request)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed first (a source over its share): read what it sent
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return out
            if not chunk:
                return out
            out += chunk


def split(answer: bytes):
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def assert_security_headers(headers):
    for name, value in server.SECURITY_HEADERS.items():
        assert headers.get(name.lower()) == value, name


# ---- item 1: pre-auth memory ----

def test_concurrent_wrong_logins_run_at_most_the_fixed_number_of_checks(confdir):
    """40 at once from one address (the report: 40 x 401, RSS 24 -> 632 MiB): at most
    MAX_CONCURRENT_CHECKS run together, at most MAX_FAILURES_PER_CLIENT run at all, the
    rest are answered without a check."""
    passwords = FakePasswords(delay=0.2)
    app = make_api(confdir, passwords)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        login(app, "192.0.2.9", "wrong"))) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert passwords.most <= auth.MAX_CONCURRENT_CHECKS
    assert passwords.checks <= auth.MAX_FAILURES_PER_CLIENT
    assert len(answers) == 40 and set(answers) <= {"wrong", "locked", "busy"}
    assert answers.count("wrong") == passwords.checks


def test_failure_is_charged_before_the_check_runs(confdir):
    """While a check is still running, it already counts: a source at its limit is refused
    with 429 before its check ends."""
    now = [0.0]
    gate = auth.LoginGate(clock=lambda: now[0])
    for _ in range(auth.MAX_FAILURES_PER_CLIENT - 1):
        assert gate.begin("192.0.2.1") is None
        gate.end("192.0.2.1", ok=False)
    assert gate.begin("192.0.2.1") is None  # the fifth, still running
    assert gate.begin("192.0.2.1")[0] == 429
    assert gate.begin("192.0.2.2") == (503, 1)  # another source: the one slot is busy
    gate.end("192.0.2.1", ok=True)  # it was right: the charge is taken back
    assert gate.begin("192.0.2.1") is None
    gate.end("192.0.2.1", ok=False)
    now[0] += auth.FAILURE_WINDOW_S + 1
    assert gate.begin("192.0.2.1") is None


def test_busy_answer_is_fast_and_not_charged(confdir):
    passwords = FakePasswords(delay=1.0)
    app = make_api(confdir, passwords)
    slow = threading.Thread(target=login, args=(app, "192.0.2.1", "wrong"))
    slow.start()
    time.sleep(0.2)
    for _ in range(auth.MAX_FAILURES_PER_CLIENT + 3):
        started = time.monotonic()
        answer = login_answer(app, "192.0.2.2", "wrong")
        assert answer[0] == jsonrpc.PERMISSION_DENIED and answer[1]["retry_after"] == 1
        assert "busy" in answer[1]["error"]
        assert time.monotonic() - started < 0.1
    slow.join()
    assert login(app, "192.0.2.2", PASSWORD) == "ok"  # none of the busy answers counted


# ---- item 4: lock-out across addresses ----

def test_failures_from_six_addresses_do_not_lock_out_a_seventh(confdir):
    app = make_api(confdir, FakePasswords())
    for i in range(6):
        for _ in range(auth.MAX_FAILURES_PER_CLIENT):
            assert login(app, f"192.168.7.{100 + i}", "wrong") == "wrong"
        assert login(app, f"192.168.7.{100 + i}", "wrong") == "locked"
    assert login(app, "192.168.7.200", PASSWORD) == "ok"
    # past MAX_FAILURES_TOTAL every source is down to one try: a new address's first
    # failure locks that address, so many addresses buy one guess each
    assert login(app, "192.168.7.201", "wrong") == "wrong"
    assert login(app, "192.168.7.201", PASSWORD) == "locked"
    assert login(app, "192.168.7.202", PASSWORD) == "ok"


def test_one_ipv6_64_is_one_source():
    gate = auth.LoginGate()
    for i in range(auth.MAX_FAILURES_PER_CLIENT):
        assert gate.begin(f"fd00:1:2:3::{i + 1}") is None
        gate.end(f"fd00:1:2:3::{i + 1}", ok=False)
    assert gate.begin("fd00:1:2:3:ffff::99")[0] == 429
    assert gate.begin("fd00:1:2:4::1") is None
    gate.end("fd00:1:2:4::1", ok=False)
    assert auth.source_of("::ffff:192.0.2.1") == "192.0.2.1"


# ---- item 6 and "Limits": JSON, error pages, crashes ----

@pytest.mark.parametrize("body", [b"[" * 60000, b"{" * 60000, b"[" * 30000 + b"]" * 30000,
                                  json.dumps({"params": [NULL_SID, "session", "login", {
                                      "password": [[[[[[["x"]]]]]]]}]}).encode()])
def test_deep_json_answers_400(web, body):
    c, _ = web
    status, headers, raw_body = c.raw("POST", "/ubus", body,
                                      {"Content-Type": "application/json"})
    assert status == 400 and "nests more than" in json.loads(raw_body)["error"]
    assert_security_headers(headers)


def test_brackets_inside_strings_do_not_count(web):
    c, _ = web
    status, _, raw_body = c.raw("POST", "/ubus", json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "call", "params": [NULL_SID, "session", "login", {
            "username": "root", "password": "[" * 500 + '\\"{' * 100}]}).encode(),
        {"Content-Type": "application/json"})
    assert status == 200 and json.loads(raw_body)["result"] == [jsonrpc.PERMISSION_DENIED]


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
    b"PATCH /ubus HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
])
def test_servers_own_error_pages_carry_the_security_headers(web, request_bytes):
    c, _ = web
    status, headers, body = split(raw(c.port, request_bytes))
    assert 400 <= status < 600
    assert_security_headers(headers)
    assert headers["content-type"] == "application/json"
    assert "error" in json.loads(body)


def test_unexpected_exception_answers_500_with_headers(web, monkeypatch):
    c, app = web

    def broken(request, client):
        raise RuntimeError("boom")
    monkeypatch.setattr(app, "handle", broken)
    status, headers, body = split(raw(c.port, ubus_request(b"Host: 127.0.0.1\r\n")))
    assert status == 500 and json.loads(body) == {"error": "internal error (logged on the router)"}
    assert_security_headers(headers)


# ---- item 9: DNS rebinding ----

@pytest.mark.parametrize("host, ok", [
    ("127.0.0.1:{port}", True), ("[::1]:{port}", True), ("192.168.7.1", True),
    ("localhost:{port}", True), ("testrouter", True), ("TestRouter.lan.:{port}", True),
    ("testrouter.local", True), ("home.example.net", True),
    ("evil.example", False), ("evil.example:{port}", False), ("testrouter.evil.example", False),
    ("127.0.0.1.evil.example", False), ("[::1]x", False), ("127.0.0.1:80x", False),
    ("disabled.example.net", False), ("", False), (None, False),
])
def test_ubus_refuses_unknown_host(web, confdir, host, ok):
    (confdir / "ddns").write_text(
        "\nconfig service 'home'\n\toption lookup_host 'home.example.net'\n"
        "\nconfig service 'old'\n\toption enabled '0'\n"
        "\toption lookup_host 'disabled.example.net'\n")
    c, _ = web
    header = b"" if host is None else f"Host: {host.format(port=c.port)}\r\n".encode()
    status, headers, body = split(raw(c.port, ubus_request(header)))
    assert status == (200 if ok else 421), host
    assert_security_headers(headers)
    if not ok:  # the page itself holds no data and stays reachable
        assert split(raw(c.port, b"GET / HTTP/1.1\r\n" + header +
                         b"Connection: close\r\n\r\n"))[0] == 200


def test_host_names_parse():
    assert hosts.host_name("[FD00::1]:8080") == "[fd00::1]"
    assert hosts.host_name("Router.LAN.:80") == "router.lan"
    assert hosts.host_name("a:b") is None and hosts.host_name("") is None
    assert not hosts.is_ip_literal("fd00::1")  # only bracketed in a Host header


# ---- item 9: the open first-start setup ----

@pytest.fixture
def fresh(confdir, tmp_path):
    """(Client, Endpoint) of a server with no password yet and a setup code."""
    passwords = auth.Passwords(str(tmp_path / "web.passwd"), str(tmp_path / "no-shadow"))
    app = make_api(confdir, passwords, setup_code="c0de00112233")
    httpd = server.Server(("127.0.0.1", 0), app, cli.default_webroot())
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    try:
        yield Client(httpd.server_address[1]), app
    finally:
        httpd.shutdown()
        httpd.server_close()


def setup(c, args):
    return c.call("setup", args, obj="wgpy.web", sid=NULL_SID)


def ok_call(c, sid):
    return c.call("interfaces", sid=sid)[0] == 0


def test_setup_needs_the_code_from_the_log(fresh):
    c, app = fresh
    assert c.call("info", obj="wgpy.web") == (0, {"password_set": False, "setup_open": True})
    status, body = setup(c, {"password": "attacker's password"})
    assert status == jsonrpc.PERMISSION_DENIED and body["field"] == "setup_code"
    assert setup(c, {"password": "attacker's password", "setup_code": "0000"})[0] == \
        jsonrpc.PERMISSION_DENIED
    assert app.passwords.source() is None
    status, body = setup(c, {"password": "the owner's password",
                             "setup_code": " C0DE00112233 "})
    assert status == 0 and len(body["ubus_rpc_session"]) == 32
    assert app.passwords.verify("the owner's password") and app.setup_code is None
    assert ok_call(c, body["ubus_rpc_session"])
    status, body = setup(c, {"password": "again a password", "setup_code": "c0de00112233"})
    assert status == jsonrpc.PERMISSION_DENIED and "already set" in body["error"]


def test_setup_code_guesses_are_limited(fresh):
    c, app = fresh
    for _ in range(auth.MAX_FAILURES_PER_CLIENT):
        assert setup(c, {"password": "attacker's password", "setup_code": "wrong"})[1][
            "field"] == "setup_code"
    status, body = setup(c, {"password": "attacker's password", "setup_code": "c0de00112233"})
    assert status == jsonrpc.PERMISSION_DENIED and "too many" in body["error"]
    assert app.passwords.source() is None


def test_without_a_code_nobody_can_set_up(confdir, tmp_path):
    passwords = auth.Passwords(str(tmp_path / "web.passwd"), str(tmp_path / "no-shadow"))
    app = make_api(confdir, passwords)
    assert call(app, "192.0.2.1", "wgpy.web", "info", {})[1]["setup_open"] is False
    answer = call(app, "192.0.2.1", "wgpy.web", "setup", {"password": "a long password",
                                                         "setup_code": ""})
    assert answer[0] == jsonrpc.PERMISSION_DENIED and passwords.source() is None


def test_first_start_prints_a_setup_code(tmp_path, monkeypatch, capsys):
    passwords = auth.Passwords(str(tmp_path / "web.passwd"), str(tmp_path / "no-shadow"))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = cli._first_start(passwords)
    assert len(code) == 2 * auth.SETUP_CODE_BYTES and code in capsys.readouterr().err
    assert code != cli._first_start(passwords)
    passwords.set(PASSWORD)
    assert cli._first_start(passwords) is None


# ---- threads: connections per source and in total ----

def test_one_source_cannot_hold_every_connection(web):
    """A source holding MAX_CONNECTIONS_PER_SOURCE idle connections is disconnected at once
    on the next one; another source is still served."""
    c, _ = web
    held = [socket.create_connection(("127.0.0.1", c.port)) for _ in
            range(server.MAX_CONNECTIONS_PER_SOURCE)]
    try:
        time.sleep(0.3)
        assert raw(c.port, ubus_request(b"Host: 127.0.0.1\r\n")) == b""
        other = socket.socket()
        other.bind(("127.0.0.2", 0))
        other.connect(("127.0.0.1", c.port))
        other.sendall(ubus_request(b"Host: 127.0.0.1\r\n"))
        assert other.recv(100).startswith(b"HTTP/1.1 200")
        other.close()
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    assert split(raw(c.port, ubus_request(b"Host: 127.0.0.1\r\n")))[0] == 200
