"""One validator (issue 13 items 2, 3, 5; issue 15 move 3), through wgpy web's JSON-RPC
endpoint in-process: every finding is refused naming the field (code "invalid"), with
nothing written and nothing applied; a stale edit is a conflict; and any string in any
field is either refused or stored so that the real libuci reads it back unchanged
(tests/uci/libuci.py)."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import owrt

from wgpy.uci import schema, syntax
from wgpy.uci.store import Store
from wgpy.web import actions, auth, jsonrpc, methods
from webdata import NETWORK, PEER_PUBLIC
from support import libuci  # the real libuci as the oracle


KEY2 = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
PROVIDER = """[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.2.0.2/32
DNS = {dns}

[Peer]
PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
AllowedIPs = 0.0.0.0/0
Endpoint = {endpoint}
"""


class Harness:
    """The ubus methods over a config directory, called in-process with a live session; records
    every live apply so a test can see that nothing was applied."""

    def __init__(self, confdir: Path, monkeypatch) -> None:
        self.confdir = confdir
        self.applied = []
        monkeypatch.setattr(actions, "reload_running",
                            lambda ctx, ifname: self.applied.append(ifname) or {"ok": True})
        monkeypatch.setattr(actions.control, "up", self._up)
        store = Store(str(confdir), backend="syntax", overridedir=str(confdir / "no-override"))
        self.app = jsonrpc.Endpoint(methods.Context(store=store),
                                    auth.Passwords("/nonexistent", "/nonexistent"))
        self.session = self.app.sessions.create()
        self.reset()

    def _up(self, store, ifname, **kw):
        self.applied.append(ifname)
        return type("Result", (), {"as_dict": lambda self: {"ok": True}})()

    def reset(self) -> None:
        (self.confdir / "network").write_text(NETWORK)
        self.applied.clear()

    def call(self, method, args=None):
        """`wgpy METHOD` -> (ubus status, reply)."""
        answer = self.app.handle({"jsonrpc": "2.0", "id": 1, "method": "call", "params": [
            self.session.token, "wgpy", method, {} if args is None else args]}, "192.0.2.1")
        result = answer["result"]
        return result[0], (result[1] if len(result) > 1 else None)

    def text(self) -> bytes:
        return (self.confdir / "network").read_bytes()


@pytest.fixture
def h(tmp_path, monkeypatch):
    return Harness(tmp_path, monkeypatch)


IF = {"interface": "wgwebapi0"}


def peer(**fields):
    return dict(IF, description="x", public_key=KEY2, allowed_ips=["10.99.0.9/32"], **fields)


def refused(h, method, args, field):
    before = h.text()
    status, answer = h.call(method, args)
    assert (status, answer.get("code"), answer.get("field")) == (0, methods.INVALID, field), answer
    assert h.text() == before and h.applied == []  # nothing written, nothing applied


# ---- issue 13 item 2: zone IDs and NUL ----

@pytest.mark.parametrize("field, value", [
    ("endpoint_host", "fe80::1%x\x00"),
    ("endpoint_host", "fe80::1%a\nb"),
    ("endpoint_host", "[fe80::1%eth0]"),
    ("allowed_ips", ["fd99::%\x00/128"]),
    ("allowed_ips", ["fd99::1%eth0/128"]),
    ("description", "a\x00b"),
    ("description", "line\nconfig interface 'evil'"),
    ("public_key", KEY2[:-1] + "\x00"),
])
def test_zone_ids_and_control_characters_refused(h, field, value):
    refused(h, "peer_add", dict(peer(), **{field: value}), field)


@pytest.mark.parametrize("address", ["fd77::1%\x00/64", "fd77::1%eth0/64", "10.0.0.1/2\x0b4"])
def test_bad_interface_address_removes_nothing(h, address):
    """The live address used to be removed before the request died: now it is refused
    before anything is written or applied."""
    refused(h, "interface_set",
            dict(IF, addresses=["10.99.0.1/24", address], listen_port=51999), "addresses")


# ---- issue 13 item 3: the import ----

@pytest.mark.parametrize("endpoint, dns", [
    ("evil'$(reboot):51820", "10.2.0.1"),
    ("a b;c:51820", "10.2.0.1"),
    ("x" * 5000 + ":51820", "10.2.0.1"),
    ("host\x00name:51820", "10.2.0.1"),
    ("vpn.example.net:51820", "not an ip"),
    ("vpn.example.net:51820", "10.2.0.1%eth0"),
])
def test_import_refuses_bad_values(h, endpoint, dns):
    body = {"config": PROVIDER.format(endpoint=endpoint, dns=dns), "name": "wgvpn"}
    refused(h, "import", body, "config")


def test_import_dns_names_are_search_domains_not_servers(h):
    body = {"config": PROVIDER.format(endpoint="vpn.example.net:51820",
                                      dns="10.2.0.1, not-an-ip"), "name": "wgvpn"}
    status, answer = h.call("import", body)
    vpn = syntax.parse(h.text(), "network").find("wgvpn")
    assert status == 0 and "error" not in answer and vpn.get("dns") == ["10.2.0.1"]
    assert vpn.get("dns_search") == ["not-an-ip"]


# ---- one rule set: the schema decides ----

def test_schema_errors_become_field_errors(h):
    """A duplicate public key is the schema's rule; the web answers it for the field."""
    refused(h, "peer_add", dict(peer(), public_key=PEER_PUBLIC), "public_key")


def test_ranges_are_the_web_limits_of_the_schema(h):
    low, high = schema.WEB_LIMITS["mtu"]
    for mtu in (low - 1, high + 1):
        refused(h, "interface_set", dict(IF, addresses=["10.99.0.1/24"], mtu=mtu), "mtu")
    status, answer = h.call("interface_set", dict(IF, addresses=["10.99.0.1/24"], mtu=high))
    assert status == 0 and "error" not in answer


def test_wizard_does_not_replace_a_mistyped_private_key(h):
    (h.confdir / "network").write_text(NETWORK.replace("'generate'", "'mistyped-key'"))
    refused(h, "device_add",
            dict(IF, description="Phone 2", endpoint_host="home.example.net"), "private_key")
    assert b"'mistyped-key'" in h.text()


# ---- issue 13 item 5: revisions ----

def test_a_stale_edit_is_a_conflict(h):
    [phone] = [p for p in h.call("interface", IF)[1]["peers"] if p["section"] == "phone"]
    first = dict(phone, description="tab one", allowed_ips=["10.99.0.2/32"], peer="phone", **IF)
    status, answer = h.call("peer_set", first)
    assert status == 0 and answer["revision"] != phone["revision"]
    second = dict(first, description="tab two")
    before = h.text()
    status, answer = h.call("peer_set", second)
    assert status == 0 and answer["code"] == methods.CONFLICT
    assert answer["revision"] == h.call("interface", IF)[1]["peers"][0]["revision"]
    assert h.text() == before and b"tab one" in before


# ---- any string in any field ----

FIELDS = [
    ("peer_add", lambda v: dict(peer(), description=v), "description"),
    ("peer_add", lambda v: peer(endpoint_host=v), "endpoint_host"),
    ("peer_add", lambda v: peer(endpoint_port=v, endpoint_host="h.example"), "endpoint_port"),
    ("peer_add", lambda v: dict(peer(), allowed_ips=[v]), "allowed_ips"),
    ("peer_add", lambda v: dict(peer(), public_key=v), "public_key"),
    ("peer_add", lambda v: peer(persistent_keepalive=v), "persistent_keepalive"),
    ("interface_set", lambda v: dict(IF, addresses=[v]), "addresses"),
    ("interface_set", lambda v: dict(IF, addresses=["10.9.0.1/24"], listen_port=v),
     "listen_port"),
    ("device_add", lambda v: dict(IF, description=v, endpoint_host="h.example"), "description"),
    ("device_add", lambda v: dict(IF, description="d", endpoint_host="h.example", dns=[v]),
     "dns"),
    ("import", lambda v: {"name": "wgvpn", "config": PROVIDER.format(
        endpoint=v, dns="10.2.0.1")}, "config"),
]
_strings = st.text(max_size=40) | st.sampled_from([
    "fe80::1%eth0", "10.0.0.1/32\x00", "'", "a'\\''b", "x\r\ny", "\udc80", "\ud800",
    "10.99.0.77", "fd99::77/128", "host.example", "51820", "65536", "-1", " 1 "]) | \
    st.text(st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=20)


@pytest.mark.skipif(owrt.skip_reason() is not None, reason=str(owrt.skip_reason()))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FIELDS), _strings)
def test_any_string_is_refused_or_read_back_unchanged_by_libuci(h, target, value):
    method, body, field = target
    h.reset()
    status, answer = h.call(method, body(value))
    assert status == 0, answer
    if answer.get("code") == methods.INVALID:
        assert answer["field"] == field and h.text().decode(errors="replace") == NETWORK
        return
    assert "error" not in answer, answer
    exported, error = libuci.export(h.text())
    assert exported is not None, error  # libuci still parses the whole file
    assert exported == libuci.as_export(syntax.parse(h.text(), "network"))
    if field == "description" and method == "peer_add":
        section = syntax.parse(h.text(), "network").find(answer["section"])
        assert section.get("description", "") == value.strip()
