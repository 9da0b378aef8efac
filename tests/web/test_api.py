"""The ubus methods through `wgpy web`'s /ubus JSON-RPC and the HTTP guards, against the real
server on a loopback port. (The same table behind rpcd's exec plugin: test_rpcd.py.)

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

from webclient import NULL_SID
from webdata import PASSWORD, PEER_PUBLIC
from wgpy.uci.store import Store
from wgpy.uci import syntax
from wgpy import cli
from wgpy.web import auth, jsonrpc, methods, server

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
KEY2 = "yTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
DENIED = {"code": -32002, "message": "Access denied"}
IF = {"interface": "wgwebapi0"}
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


def refused(answer, code=methods.INVALID):
    """A handler's refusal of `code`: -> its field (None when it names none)."""
    status, reply = answer
    assert status == 0 and reply["code"] == code, answer
    return reply.get("field")


def ok(answer):
    status, reply = answer
    assert status == 0 and "error" not in (reply or {}), answer
    return reply


# ---- authentication ----

def test_every_method_refuses_without_session(web):
    c, _ = web
    for obj, table in methods.OBJECTS.items():
        for name in table:
            assert c.call(name, dict(IF, peer="phone"), obj=obj) == DENIED, (obj, name)
            assert c.call(name, {}, obj=obj, sid="f" * 32) == DENIED, (obj, name)


def test_login_gives_a_session_id_and_no_cookie(web):
    c, _ = web
    assert c.call("info", obj="wgpy.web") == (0, {"password_set": True})
    status, headers, raw = c.raw("POST", "/ubus", json.dumps(
        {"jsonrpc": "2.0", "id": 7, "method": "call", "params": [
            NULL_SID, "session", "login", {"username": "root", "password": PASSWORD}]}).encode(),
        {"Content-Type": "application/json"})
    answer = json.loads(raw)
    assert status == 200 and "set-cookie" not in headers and answer["id"] == 7
    sid = answer["result"][1]["ubus_rpc_session"]
    assert len(sid) == 32 and int(sid, 16) >= 0
    assert answer["result"][1]["data"] == {"username": "root"}
    assert ok(c.call("interfaces", sid=sid)) == {"interfaces": ["wgwebapi0"],
                                                 "hostname": "testrouter"}
    assert c.login(username="admin")[0] == jsonrpc.PERMISSION_DENIED  # root is the one user


def test_wrong_password_and_rate_limit(web):
    c, _ = web
    for _ in range(auth.MAX_FAILURES_PER_CLIENT):
        assert c.login("wrong") == (jsonrpc.PERMISSION_DENIED, None)
    status, reply = c.login(PASSWORD)  # right password, but locked out for now
    assert status == jsonrpc.PERMISSION_DENIED and reply["retry_after"] > 0
    assert "too many" in reply["error"]


def test_logout_ends_session(client):
    assert client.call("destroy", obj="session") == (0, None)
    assert client.call("status") == DENIED


def test_forged_session_refused(web):
    c, _ = web
    c.sid = "0123456789abcdef0123456789abcdef"
    assert c.call("status") == DENIED
    assert c.call("destroy", obj="session") == DENIED


def test_uhttpds_session_argument_is_not_accepted_from_the_client(client):
    """uhttpd adds ubus_rpc_session itself and refuses a request that brings its own."""
    answer = client.rpc(client.sid, "wgpy", "status", {methods.SESSION_ARG: NULL_SID})
    assert answer["error"]["code"] == -32602


def test_json_rpc_envelope(client):
    assert client.call("nope") == (jsonrpc.METHOD_NOT_FOUND, None)
    assert client.call("status", obj="nope") == {"code": -32000, "message": "Object not found"}
    status, answer = client.post({"jsonrpc": "2.0", "id": 1, "method": "list", "params": []})
    assert answer["error"]["code"] == -32601
    status, answer = client.post({"jsonrpc": "2.0", "id": 1, "method": "call",
                                  "params": [client.sid, "wgpy", "status"]})
    assert answer["error"]["code"] == -32700
    status, answer = client.post([{"jsonrpc": "2.0"}])
    assert answer["error"]["code"] == -32600


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
    app = jsonrpc.Endpoint(methods.Context(store=Store(str(confdir))), passwords,
                           setup_code="c0de")

    def call(obj, name, args):
        return app.handle({"jsonrpc": "2.0", "id": 1, "method": "call",
                           "params": [NULL_SID, obj, name, args]}, "192.0.2.1")["result"]
    setup = lambda pw: call("wgpy.web", "setup", {"password": pw, "setup_code": "c0de"})  # noqa: E731
    assert call("wgpy.web", "info", {}) == [0, {"password_set": False, "setup_open": True}]
    assert setup("short")[0] == jsonrpc.INVALID_ARGUMENT and setup("short")[1]["field"] == "password"
    answer = setup("a long enough password")
    assert answer[0] == 0 and len(answer[1]["ubus_rpc_session"]) == 32
    assert setup("somebody else's password")[0] == jsonrpc.PERMISSION_DENIED
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

def test_status_interfaces_detail_suggest(client):
    body = ok(client.call("status"))
    assert body["hostname"] == "testrouter"
    iface = body["interfaces"]["wgwebapi0"]
    assert iface["up"] is False and iface["listen_port"] == 51999
    assert [p["description"] for p in iface["peers"]] == ["Phone"]
    assert ok(client.call("interfaces"))["interfaces"] == ["wgwebapi0"]
    detail = ok(client.call("interface", IF))
    assert detail["addresses"] == ["10.99.0.1/24", "fd99::1/64"]
    assert detail["peers"][0]["section"] == "phone"
    hint = ok(client.call("suggest", IF))
    assert hint["addresses"] == ["10.99.0.3/32", "fd99::3/128"]  # .2 is the phone's
    assert hint["dns"] == ["192.168.7.1"] and hint["endpoint_port"] == 51999
    assert hint["split_allowed_ips"] == ["10.99.0.0/24", "fd99::/64", "192.168.7.0/24"]
    refused(client.call("interface", {"interface": "nope"}), methods.NOT_FOUND)
    assert refused(client.call("interface", {})) == "interface"


def test_keys(client):
    pair = ok(client.call("keypair"))
    from wgpy.keys import is_key, public_key
    assert is_key(pair["private_key"]) and public_key(pair["private_key"]) == pair["public_key"]
    assert is_key(ok(client.call("psk"))["preshared_key"])


def test_compatibility_objects(client):
    assert ok(client.call("genkey", obj="wireguard"))["public"]
    assert client.call("pubkey", {"private": "x"}, obj="wireguard") == \
        (jsonrpc.INVALID_ARGUMENT, None)
    assert ok(client.call("getPublicAndPrivateKeyFromPrivate", {"privkey": "x"},
                          obj="luci.wireguard")) == {"keys": {"priv": "x", "pub": ""}}


# ---- writing ----

def test_add_edit_disable_delete_peer(client, confdir):
    body = ok(client.call("peer_add", dict(IF, **{
        "description": "Laptop", "public_key": KEY2, "allowed_ips": ["10.99.0.5/32"],
        "endpoint_host": "example.org", "endpoint_port": 51820, "persistent_keepalive": 25})))
    assert body["apply"]["ok"]
    name = body["section"]
    peer = section(confdir, name)
    assert peer.type == "wireguard_wgwebapi0" and peer.get("allowed_ips") == ["10.99.0.5/32"]
    assert peer.get("endpoint_port") == "51820"
    ok(client.call("peer_set", dict(IF, peer=name, **{
        "description": "Laptop", "public_key": KEY2, "allowed_ips": "10.99.0.6",
        "disabled": True})))
    peer = section(confdir, name)
    assert peer.get("disabled") == "1"
    assert peer.get("allowed_ips") == ["10.99.0.6/32"] and peer.get("endpoint_host") is None
    states = {p["description"]: p["state"] for p in
              ok(client.call("status"))["interfaces"]["wgwebapi0"]["peers"]}
    assert states["Laptop"] == "disabled"
    ok(client.call("peer_delete", dict(IF, peer=name)))
    assert section(confdir, name) is None
    refused(client.call("peer_delete", dict(IF, peer=name)), methods.NOT_FOUND)


def test_stored_preshared_key_is_kept_unless_replaced_or_removed(client, confdir):
    """The page never receives a stored preshared key, so an edit without one keeps it."""
    psk = ok(client.call("psk"))["preshared_key"]
    body = ok(client.call("peer_add", dict(IF, **{
        "description": "Tablet", "public_key": KEY2, "allowed_ips": ["10.99.0.7/32"],
        "preshared_key": psk})))
    name = body["section"]
    view = [p for p in ok(client.call("interface", IF))["peers"] if p["section"] == name][0]
    assert view["preshared_key_set"] is True and "preshared_key" not in view
    edit = dict(IF, peer=name, description="Tablet 2", public_key=KEY2,
                allowed_ips=["10.99.0.7/32"])
    ok(client.call("peer_set", edit))
    assert section(confdir, name).get("preshared_key") == psk
    ok(client.call("peer_set", dict(edit, preshared_key="")))
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
    body = dict(IF, public_key=KEY2, allowed_ips=["10.99.0.9/32"])
    body[field] = value
    before = (confdir / "network").read_text()
    assert refused(client.call("peer_add", body)) == field
    assert (confdir / "network").read_text() == before


def test_duplicate_key_refused(client):
    answer = client.call("peer_add", dict(IF, public_key=PEER_PUBLIC, allowed_ips=["10.99.0.9"]))
    assert refused(answer) == "public_key"


def test_hostile_description_is_data(client, confdir):
    body = ok(client.call("peer_add", dict(IF, description=HOSTILE, public_key=KEY2,
                                           allowed_ips=["10.99.0.7/32"])))
    assert section(confdir, body["section"]).get("description") == HOSTILE
    status, headers, raw = client.raw("POST", "/ubus", json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "call",
         "params": [client.sid, "wgpy", "status", {}]}).encode(),
        {"Content-Type": "application/json"})
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in headers["content-security-policy"]
    peers = json.loads(raw)["result"][1]["interfaces"]["wgwebapi0"]["peers"]
    assert HOSTILE in [p["description"] for p in peers]


def test_interface_settings_and_key(client, confdir):
    ok(client.call("interface_set", dict(IF, listen_port=51888, addresses=["10.98.0.1/24"],
                                         mtu=1400)))
    iface = section(confdir, "wgwebapi0")
    assert (iface.get("listen_port"), iface.get("addresses"), iface.get("mtu")) == \
        ("51888", ["10.98.0.1/24"], "1400")
    assert refused(client.call("interface_set", dict(IF, addresses=[]))) == "addresses"
    assert refused(client.call("interface_set", dict(IF, addresses=["10.98.0.1/24"],
                                                     mtu=99))) == "mtu"
    first = ok(client.call("private_key_regenerate", IF))["public_key"]
    assert ok(client.call("interface", IF))["public_key"] == first
    assert ok(client.call("private_key_regenerate", IF))["public_key"] != first


def test_add_device(client, confdir):
    body = ok(client.call("device_add", dict(IF, **{
        "description": "Anna's phone", "endpoint_host": "home.example.net", "dns": ["192.168.7.1"],
        "tunnel": "split", "split_allowed_ips": ["10.99.0.0/24", "192.168.7.0/24"]})))
    conf = body["config"]
    private = conf.split("PrivateKey = ")[1].split("\n")[0]
    assert private not in (confdir / "network").read_text()  # never stored
    from wgpy.keys import public_key
    assert public_key(private) == body["public_key"]
    server_public = ok(client.call("interface", IF))["public_key"]
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
    body = ok(client.call("device_add", dict(IF, description="Laptop",
                                             endpoint_host="[2001:db8::1]", preshared_key=False)))
    assert "Address = 10.99.0.4/32, fd99::4/128" in body["config"]
    assert "Endpoint = [2001:db8::1]:51999" in body["config"]
    assert "AllowedIPs = 0.0.0.0/0, ::/0" in body["config"] and "PresharedKey" not in body["config"]
    assert refused(client.call("device_add", dict(IF, description="x"))) == "endpoint_host"


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
    body = ok(client.call("import", {
        "config": PROVIDER_CONF, "mode": "interface", "name": "vpn1", "route_all": True,
        "start": False}))
    assert any("postup" in w for w in body["warnings"])
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
    assert ok(client.call("interfaces"))["interfaces"] == ["wgwebapi0", "vpn1"]
    assert refused(client.call("import", {
        "config": PROVIDER_CONF, "mode": "interface", "name": "vpn1", "start": False})) == "name"


def test_import_as_peer_and_bad_config(client, confdir):
    ok(client.call("import", {"config": PROVIDER_CONF, "mode": "peer", "interface": "wgwebapi0"}))
    peer = [s for s in network(confdir).sections if s.get("public_key") == KEY2][0]
    assert peer.type == "wireguard_wgwebapi0" and peer.get("route_allowed_ips") is None
    for text, fragment in (("[Peer]\nPublicKey = nope\n", "line 2"),
                           ("[Interface]\nAddress = 10.0.0.1/24\n", "no [Peer]"),
                           ("garbage", "line 1")):
        status, body = client.call("import", {"config": text, "name": "x1"})
        assert refused((status, body)) == "config" and fragment in body["error"]


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
    assert client.raw("GET", "/ubus")[0] == 405


@pytest.mark.parametrize("path", [
    "/../src/wgpy/web/jsonrpc.py", "/%2e%2e/src/wgpy/web/jsonrpc.py",
    "/..%2fsrc%2fwgpy%2fweb%2fjsonrpc.py",
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
    headers = {"Content-Type": "application/json"}
    assert client.raw("POST", "/ubus", big, headers)[0] == 413
    assert client.raw("POST", "/ubus", b"{nope", headers)[0] == 400
    assert client.raw("POST", "/ubus", b"{}", {"Content-Type": "text/plain"})[0] == 415
    assert client.raw("POST", "/ubus", b"", {"Transfer-Encoding": "chunked"})[0] == 411
    answer = client.rpc(client.sid, "wgpy", "peer_add", ["not", "an", "object"])
    assert answer["error"]["code"] == -32700


def test_unknown_path_and_method(client):
    assert client.raw("GET", "/api/status")[0] == 404
    status, headers, _ = client.raw("PATCH", "/ubus")
    assert status == 501  # http.server answers methods it has no handler for
    assert client.raw("DELETE", "/ubus")[0] == 405


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
    keys = [ok(client.call("keypair"))["public_key"] for _ in range(6)]

    def add(i):
        client.call("peer_add", dict(IF, public_key=keys[i], allowed_ips=[f"10.99.0.{20 + i}/32"]))
    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([s for s in network(confdir).sections if s.type == "wireguard_wgwebapi0"]) == 7
