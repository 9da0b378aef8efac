"""The JSON API and the HTTP guards, against the real server on a loopback port.

No interface runs here, so writes are only written to UCI (the answer says the change
applies when the interface starts); live apply is proven by test_browser.py.
"""

import io
import json
import os
import stat
import threading
import warnings

import pytest

from webdata import PASSWORD, PEER_PUBLIC
from wgpy.uci.store import Store
from wgpy.uci import syntax
from wgpy import cli
from wgpy.web import actions, api, auth, server

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
KEY2 = "yTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
PROVIDER_CONF = """# from a VPN provider
[Interface]
PrivateKey = 8CC8AOQj7GRbESOdzQGBxXyyi4bfC2ELR6j4Xu8TAnM=
Address = 10.2.0.2/32, fd00:2::2/128
DNS = 10.2.0.1
PostUp = echo never run

[Peer]
PublicKey = {key}
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = vpn.example.net:51820
PersistentKeepalive = 25
""".format(key=KEY2)


def network(confdir) -> syntax.Package:
    return Store(str(confdir)).load("network")


def section(confdir, name):
    return network(confdir).find(name)


# ---- authentication ----

def test_every_private_endpoint_refuses_without_session(web):
    c, app = web
    for method, pattern, _, public in app.routes:
        if public:
            continue
        path = pattern.pattern.replace("(?P<ifname>[A-Za-z0-9_]+)", "wgwebapi0") \
            .replace(r"(?P<peer>[A-Za-z0-9_@\[\]-]+)", "phone")
        status, body = c.call(method, path, {} if method != "GET" else None)
        assert status == 401, (method, path)
        assert body == {"error": "login required"}


def test_every_write_refuses_without_csrf(client, web):
    _, app = web
    for method, pattern, _, public in app.routes:
        if public or method == "GET":
            continue
        path = pattern.pattern.replace("(?P<ifname>[A-Za-z0-9_]+)", "wgwebapi0") \
            .replace(r"(?P<peer>[A-Za-z0-9_@\[\]-]+)", "phone")
        assert client.call(method, path, {}, csrf=False)[0] == 403, (method, path)
        client.csrf, good = "wrong", client.csrf
        assert client.call(method, path, {})[0] == 403, (method, path)
        client.csrf = good


def test_login_sets_strict_httponly_cookie(web):
    c, _ = web
    status, body = c.call("GET", "/api/session")
    assert (status, body) == (200, {"authenticated": False, "password_set": True})
    status, headers = c.login()
    assert status == 200
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    status, body = c.call("GET", "/api/session")
    assert body["authenticated"] and body["csrf"] == c.csrf
    assert body["hostname"] == "testrouter" and body["password_source"] == "wgpy"


def test_wrong_password_and_rate_limit(web):
    c, _ = web
    for _ in range(auth.MAX_FAILURES_PER_CLIENT):
        assert c.login("wrong")[0] == 401
    status, headers = c.login(PASSWORD)  # right password, but locked out for now
    assert status == 429 and int(headers["retry-after"]) > 0


def test_logout_ends_session(client):
    assert client.call("POST", "/api/logout")[0] == 200
    assert client.call("GET", "/api/status")[0] == 401


def test_forged_cookie_refused(web):
    c, _ = web
    c.cookie = "wgpy_sid=forged"
    assert c.call("GET", "/api/status")[0] == 401


def test_root_password_from_shadow(confdir, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    shadow = tmp_path / "shadow"
    hashed = crypt.crypt("rootpw-123", crypt.mksalt(crypt.METHOD_SHA512))
    shadow.write_text(f"daemon:*:1:0:99999:7:::\nroot:{hashed}:19000:0:99999:7:::\n")
    passwords = auth.Passwords(str(tmp_path / "web.passwd"), str(shadow))
    passwords.set(PASSWORD)  # the wgpy password no longer counts once root has one
    assert passwords.source() == "shadow"
    assert passwords.verify("rootpw-123")
    assert not passwords.verify(PASSWORD)
    shadow.write_text("root:*:19000:0:99999:7:::\n")  # locked root: wgpy password
    assert passwords.source() == "wgpy" and passwords.verify(PASSWORD)


def test_first_start_setup(confdir, tmp_path):
    passwords = auth.Passwords(str(tmp_path / "sub" / "web.passwd"), str(tmp_path / "none"))
    app = api.Api(actions.Context(Store(str(confdir))), passwords, setup_code="c0de")
    setup = lambda pw: app.handle(api.Request(  # noqa: E731
        "POST", "/api/setup", {"password": pw, "setup_code": "c0de"}))
    assert app.handle(api.Request("GET", "/api/session")).body["password_set"] is False
    assert setup("short").status == 400
    answer = setup("a long enough password")
    assert answer.status == 200 and "Set-Cookie" in answer.headers
    assert setup("somebody else's password").status == 403
    mode = os.stat(tmp_path / "sub" / "web.passwd").st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert "a long enough" not in (tmp_path / "sub" / "web.passwd").read_text()


def test_passwd_command(tmp_path, monkeypatch):
    path = tmp_path / "pw"
    monkeypatch.setattr("sys.stdin", io.StringIO("new password 1\n"))
    assert cli.main(["passwd", "--passwd-file", str(path), "--shadow", str(tmp_path / "x")]) == 0
    assert auth.Passwords(str(path), str(tmp_path / "x")).verify("new password 1")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["passwd", "--passwd-file", str(path), "--shadow", str(tmp_path / "x")]) == 1


# ---- reading ----

def test_status_interfaces_detail_suggest_openapi(client):
    status, body = client.call("GET", "/api/status")
    assert status == 200 and body["hostname"] == "testrouter"
    iface = body["interfaces"]["wgwebapi0"]
    assert iface["up"] is False and iface["listen_port"] == 51999
    assert [p["description"] for p in iface["peers"]] == ["Phone"]
    assert client.call("GET", "/api/interfaces") == (200, {"interfaces": ["wgwebapi0"]})
    status, detail = client.call("GET", "/api/interfaces/wgwebapi0")
    assert detail["addresses"] == ["10.99.0.1/24", "fd99::1/64"]
    assert detail["peers"][0]["section"] == "phone"
    status, hint = client.call("GET", "/api/interfaces/wgwebapi0/suggest")
    assert hint["addresses"] == ["10.99.0.3/32", "fd99::3/128"]  # .2 is the phone's
    assert hint["dns"] == ["192.168.7.1"] and hint["endpoint_port"] == 51999
    assert hint["split_allowed_ips"] == ["10.99.0.0/24", "fd99::/64", "192.168.7.0/24"]
    status, spec = client.call("GET", "/api/openapi.json")
    assert spec["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops
                  if m != "parameters"}
    assert len(documented) == len(api.Api(None, None).routes)
    assert client.call("GET", "/api/interfaces/nope")[0] == 404


def test_keys(client):
    status, pair = client.call("POST", "/api/keys/keypair")
    assert status == 200
    from wgpy.keys import is_key, public_key
    assert is_key(pair["private_key"]) and public_key(pair["private_key"]) == pair["public_key"]
    status, psk = client.call("POST", "/api/keys/psk")
    assert is_key(psk["preshared_key"])


# ---- writing ----

def test_add_edit_disable_delete_peer(client, confdir):
    status, body = client.call("POST", "/api/interfaces/wgwebapi0/peers", {
        "description": "Laptop", "public_key": KEY2, "allowed_ips": ["10.99.0.5/32"],
        "endpoint_host": "example.org", "endpoint_port": 51820, "persistent_keepalive": 25})
    assert status == 201 and body["apply"]["ok"]
    name = body["section"]
    peer = section(confdir, name)
    assert peer.type == "wireguard_wgwebapi0" and peer.get("allowed_ips") == ["10.99.0.5/32"]
    assert peer.get("endpoint_port") == "51820"
    status, _ = client.call("PUT", f"/api/interfaces/wgwebapi0/peers/{name}", {
        "description": "Laptop", "public_key": KEY2, "allowed_ips": "10.99.0.6",
        "disabled": True})
    peer = section(confdir, name)
    assert status == 200 and peer.get("disabled") == "1"
    assert peer.get("allowed_ips") == ["10.99.0.6/32"] and peer.get("endpoint_host") is None
    states = {p["description"]: p["state"] for p in
              client.call("GET", "/api/status")[1]["interfaces"]["wgwebapi0"]["peers"]}
    assert states["Laptop"] == "disabled"
    assert client.call("DELETE", f"/api/interfaces/wgwebapi0/peers/{name}")[0] == 200
    assert section(confdir, name) is None
    assert client.call("DELETE", f"/api/interfaces/wgwebapi0/peers/{name}")[0] == 404


def test_stored_preshared_key_is_kept_unless_replaced_or_removed(client, confdir):
    """The page never receives a stored preshared key, so an edit without one keeps it."""
    psk = client.call("POST", "/api/keys/psk")[1]["preshared_key"]
    status, body = client.call("POST", "/api/interfaces/wgwebapi0/peers", {
        "description": "Tablet", "public_key": KEY2, "allowed_ips": ["10.99.0.7/32"],
        "preshared_key": psk})
    assert status == 201
    name, path = body["section"], f"/api/interfaces/wgwebapi0/peers/{body['section']}"
    view = [p for p in client.call("GET", "/api/interfaces/wgwebapi0")[1]["peers"]
            if p["section"] == name][0]
    assert view["preshared_key_set"] is True and "preshared_key" not in view
    edit = {"description": "Tablet 2", "public_key": KEY2, "allowed_ips": ["10.99.0.7/32"]}
    assert client.call("PUT", path, edit)[0] == 200
    assert section(confdir, name).get("preshared_key") == psk
    assert client.call("PUT", path, dict(edit, preshared_key=""))[0] == 200
    assert section(confdir, name).get("preshared_key") is None


@pytest.mark.parametrize("field,value", [
    ("public_key", "not-a-key"),
    ("public_key", "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dh="),  # stray low bits
    ("allowed_ips", ["10.99.0.300/32"]),
    ("allowed_ips", ["10.99.0.2/32"]),  # the phone's
    ("endpoint_port", 70000),
    ("persistent_keepalive", -1),
    ("preshared_key", "short"),
    ("endpoint_host", "bad host!"),
    ("description", "line\nbreak"),
])
def test_peer_validation(client, confdir, field, value):
    body = {"public_key": KEY2, "allowed_ips": ["10.99.0.9/32"], field: value}
    before = (confdir / "network").read_text()
    status, answer = client.call("POST", "/api/interfaces/wgwebapi0/peers", body)
    assert status == 400 and answer["field"] == field
    assert (confdir / "network").read_text() == before


def test_duplicate_key_refused(client):
    status, answer = client.call("POST", "/api/interfaces/wgwebapi0/peers",
                                 {"public_key": PEER_PUBLIC, "allowed_ips": ["10.99.0.9"]})
    assert status == 400 and answer["field"] == "public_key"


def test_hostile_description_is_data(client, confdir):
    status, body = client.call("POST", "/api/interfaces/wgwebapi0/peers", {
        "description": HOSTILE, "public_key": KEY2, "allowed_ips": ["10.99.0.7/32"]})
    assert status == 201
    assert section(confdir, body["section"]).get("description") == HOSTILE
    status, headers, raw = client.raw("GET", "/api/status")
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in headers["content-security-policy"]
    peers = json.loads(raw)["interfaces"]["wgwebapi0"]["peers"]
    assert HOSTILE in [p["description"] for p in peers]


def test_interface_settings_and_key(client, confdir):
    status, body = client.call("PUT", "/api/interfaces/wgwebapi0", {
        "listen_port": 51888, "addresses": ["10.98.0.1/24"], "mtu": 1400})
    assert status == 200
    iface = section(confdir, "wgwebapi0")
    assert (iface.get("listen_port"), iface.get("addresses"), iface.get("mtu")) == \
        ("51888", ["10.98.0.1/24"], "1400")
    path = "/api/interfaces/wgwebapi0"
    assert client.call("PUT", path, {"addresses": []})[1]["field"] == "addresses"
    assert client.call("PUT", path, {"addresses": ["10.98.0.1/24"], "mtu": 99})[1]["field"] == "mtu"
    status, body = client.call("POST", f"{path}/private-key")
    first = body["public_key"]
    assert status == 200 and client.call("GET", path)[1]["public_key"] == first
    assert client.call("POST", f"{path}/private-key")[1]["public_key"] != first


def test_add_device(client, confdir):
    status, body = client.call("POST", "/api/interfaces/wgwebapi0/devices", {
        "description": "Anna's phone", "endpoint_host": "home.example.net", "dns": ["192.168.7.1"],
        "tunnel": "split", "split_allowed_ips": ["10.99.0.0/24", "192.168.7.0/24"]})
    assert status == 201
    conf = body["config"]
    private = conf.split("PrivateKey = ")[1].split("\n")[0]
    assert private not in (confdir / "network").read_text()  # never stored
    from wgpy.keys import public_key
    assert public_key(private) == body["public_key"]
    server_public = client.call("GET", "/api/interfaces/wgwebapi0")[1]["public_key"]
    assert f"PublicKey = {server_public}\n" in conf
    for line in ("Address = 10.99.0.3/32, fd99::3/128", "DNS = 192.168.7.1",
                 "AllowedIPs = 10.99.0.0/24, 192.168.7.0/24",
                 "Endpoint = home.example.net:51999", "PersistentKeepalive = 25",
                 "PresharedKey = "):
        assert line in conf
    assert body["filename"] == "Anna-s-phone.conf"
    peer = section(confdir, body["section"])
    assert peer.get("allowed_ips") == ["10.99.0.3/32", "fd99::3/128"]
    assert peer.get("preshared_key") in conf
    # the next device gets the next address; IPv6 endpoints are bracketed
    status, body = client.call("POST", "/api/interfaces/wgwebapi0/devices", {
        "description": "Laptop", "endpoint_host": "[2001:db8::1]", "preshared_key": False})
    assert "Address = 10.99.0.4/32, fd99::4/128" in body["config"]
    assert "Endpoint = [2001:db8::1]:51999" in body["config"]
    assert "AllowedIPs = 0.0.0.0/0, ::/0" in body["config"] and "PresharedKey" not in body["config"]
    status, body = client.call("POST", "/api/interfaces/wgwebapi0/devices", {"description": "x"})
    assert status == 400 and body["field"] == "endpoint_host"


FIREWALL = """
config zone
\toption name 'lan'
\toption network 'lan'

config zone
\toption name 'wan'
\tlist network 'wan'
\tlist network 'wan6'
\toption masq '1'
"""


def test_import_as_interface_routing_whole_lan(client, confdir):
    (confdir / "firewall").write_text(FIREWALL)
    status, body = client.call("POST", "/api/import", {
        "config": PROVIDER_CONF, "mode": "interface", "name": "vpn1", "route_all": True,
        "start": False})
    assert status == 201 and any("postup" in w for w in body["warnings"])
    pkg = network(confdir)
    iface = pkg.find("vpn1")
    assert iface.get("proto") == "wgpy"
    assert iface.get("addresses") == ["10.2.0.2/32", "fd00:2::2/128"]
    assert iface.get("dns") == ["10.2.0.1"]
    assert iface.get("killswitch") == "1"  # whole LAN: the kill switch is on by default
    peer = [s for s in pkg.sections if s.type == "wireguard_vpn1"][0]
    assert peer.get("allowed_ips") == ["0.0.0.0/0", "::/0"] and peer.get("route_allowed_ips") == "1"
    assert (peer.get("endpoint_host"), peer.get("endpoint_port")) == ("vpn.example.net", "51820")
    # LAN traffic into the tunnel is masqueraded: the interface joins the wan zone
    zones = {z.get("name"): z for z in syntax.parse((confdir / "firewall").read_text(),
                                                    "firewall").sections if z.type == "zone"}
    assert zones["wan"].get("network") == ["wan", "wan6", "vpn1"]
    assert zones["lan"].get("network") == "lan"
    assert client.call("GET", "/api/interfaces")[1]["interfaces"] == ["wgwebapi0", "vpn1"]
    status, body = client.call("POST", "/api/import", {
        "config": PROVIDER_CONF, "mode": "interface", "name": "vpn1", "start": False})
    assert status == 400 and body["field"] == "name"


def test_import_as_peer_and_bad_config(client, confdir):
    status, body = client.call("POST", "/api/import", {
        "config": PROVIDER_CONF, "mode": "peer", "interface": "wgwebapi0"})
    assert status == 201
    peer = [s for s in network(confdir).sections if s.get("public_key") == KEY2][0]
    assert peer.type == "wireguard_wgwebapi0" and peer.get("route_allowed_ips") is None
    for text, fragment in (("[Peer]\nPublicKey = nope\n", "line 2"),
                           ("[Interface]\nAddress = 10.0.0.1/24\n", "no [Peer]"),
                           ("garbage", "line 1")):
        status, body = client.call("POST", "/api/import", {"config": text, "name": "x1"})
        assert status == 400 and body["field"] == "config" and fragment in body["error"]


# ---- HTTP guards ----

def test_static_files(client):
    status, headers, body = client.raw("GET", "/")
    assert status == 200 and b"wgpy.css" in body
    assert headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert client.raw("GET", "/qr.js")[0] == 200
    assert client.raw("HEAD", "/wgpy.css")[0] == 200
    assert client.raw("POST", "/index.html")[0] == 405


@pytest.mark.parametrize("path", [
    "/../src/wgpy/web/api.py", "/%2e%2e/src/wgpy/web/api.py", "/..%2fsrc%2fwgpy%2fweb%2fapi.py",
    "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "//etc/passwd", "/./index.html", "/.hidden",
    "/index.html%00.js", "/..\\..\\etc\\passwd", "/nonexistent.js", "/README",
])
def test_no_path_traversal(web, path):
    status, _, body = web[0].raw("GET", path)
    assert status == 404 and b"root:" not in body and b"import" not in body


def test_symlink_out_of_webroot_refused(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_text("hi")
    (tmp_path / "secret.js").write_text("secret")
    os.symlink(tmp_path / "secret.js", root / "link.js")
    assert server.static_path(str(root), "/index.html") == str((root / "index.html").resolve())
    assert server.static_path(str(root), "/link.js") is None


def test_body_limits(client):
    big = b'{"x": "' + b"a" * server.MAX_BODY_BYTES + b'"}'
    headers = {"Content-Type": "application/json", "X-CSRF-Token": client.csrf}
    assert client.raw("POST", "/api/keys/psk", big, headers)[0] == 413
    assert client.raw("POST", "/api/keys/psk", b"{nope", headers)[0] == 400
    assert client.raw("POST", "/api/keys/psk", b"{}",
                      {"Content-Type": "text/plain", "X-CSRF-Token": client.csrf})[0] == 415
    assert client.raw("POST", "/api/keys/psk", b"",
                      {"Transfer-Encoding": "chunked", "X-CSRF-Token": client.csrf})[0] == 411
    status, body = client.call("POST", "/api/interfaces/wgwebapi0/peers", ["not", "an", "object"])
    assert status == 400 and body["field"] == "body"


def test_unknown_api_path_and_method(client):
    assert client.call("GET", "/api/nothing")[0] == 404
    status, headers, _ = client.raw("PATCH", "/api/status")
    assert status == 501  # http.server answers methods it has no handler for
    assert client.call("DELETE", "/api/status")[0] == 405


def test_sessions_expire(monkeypatch):
    now = [1000.0]
    sessions = auth.Sessions(clock=lambda: now[0])
    token = sessions.create().token
    now[0] += auth.SESSION_IDLE_S - 1
    assert sessions.get(token) is not None
    now[0] += auth.SESSION_IDLE_S + 1
    assert sessions.get(token) is None


def test_parallel_writes_do_not_lose_peers(client, confdir):
    """Two tabs adding peers at once: the write lock serializes load-edit-save."""
    keys = [client.call("POST", "/api/keys/keypair")[1]["public_key"] for _ in range(6)]

    def add(i):
        client.call("POST", "/api/interfaces/wgwebapi0/peers",
                    {"public_key": keys[i], "allowed_ips": [f"10.99.0.{20 + i}/32"]})
    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([s for s in network(confdir).sections if s.type == "wireguard_wgwebapi0"]) == 7
