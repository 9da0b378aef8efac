"""The ubus glue against a stand-in `ubus` module with python3-ubus's documented behaviour,
for `make check` (test_owrt_ubus.py runs it on the real ubusd, rpcd and uhttpd): objects
registered as {method: {"method", "signature"}}, strict signatures, replies through
req.reply(dict), events through ubus.send."""

import sys
import types

import pytest

import wgpy.router
from wgpy.uapi import client
from wgpy.uci.store import Store


class Req:
    def __init__(self):
        self.replies = []

    def reply(self, data):
        assert isinstance(data, dict)
        self.replies.append(data)


@pytest.fixture
def fake_ubus(monkeypatch):
    bus = types.ModuleType("ubus")
    bus.BLOBMSG_TYPE_STRING = 3
    bus.registered, bus.sent, bus.calls = {}, [], []
    bus.connect = lambda socket_path: bus.calls.append(("connect", socket_path))
    bus.disconnect = lambda: bus.calls.append(("disconnect",))
    bus.objects = lambda path=None: {"luci.wireguard": {}}  # as if luci-proto-wireguard has it
    bus.get_connected = lambda: True
    bus.loop = lambda timeout_ms: bus.calls.append(("loop", timeout_ms))
    bus.send = lambda event, data: bus.sent.append((event, data))

    def add(name, methods):
        for entry in methods.values():
            assert set(entry) == {"method", "signature"}  # python3-ubus insists on this
        bus.registered[name] = methods
    bus.add = add
    monkeypatch.setitem(sys.modules, "ubus", bus)
    # The glue must bind this stand-in: drop any copy imported against an earlier one.
    monkeypatch.delitem(sys.modules, "wgpy.router.ubus", raising=False)
    monkeypatch.delattr(wgpy.router, "ubus", raising=False)
    # Other daemons on this machine share /var/run/wireguard: see none of them here.
    monkeypatch.setattr(client, "interfaces", lambda directory=None: [])
    return bus


def call(bus, obj, method, args=None):
    entry = bus.registered[obj][method]
    assert set(args or {}) == set(entry["signature"])  # strict: exactly the declared args
    req = Req()
    entry["method"](req, args or {})
    [reply] = req.replies
    return reply


def test_objects_methods_and_replies(fake_ubus, tmp_path):
    from wgpy.router import ubus as glue
    (tmp_path / "network").write_text("\nconfig interface 'wgx'\n\toption proto 'wgpy'\n")
    bus = glue.Bus(Store(str(tmp_path)), socket_path="/tmp/none.sock")
    assert set(fake_ubus.registered) == {"wireguard", "wgpy"}  # the taken name is left alone
    assert set(fake_ubus.registered["wireguard"]) == {"status", "genkey", "genpsk", "pubkey"}
    keys = call(fake_ubus, "wireguard", "genkey")
    assert call(fake_ubus, "wireguard", "pubkey", {"private": keys["private"]}) == \
        {"public": keys["public"]}
    assert isinstance(call(fake_ubus, "wireguard", "status"), dict)
    status = call(fake_ubus, "wgpy", "status")
    assert status["interfaces"]["wgx"]["up"] is False
    assert call(fake_ubus, "wgpy", "reload") == {"interfaces": {}}
    bus.serve(0.2)
    bus.close()
    assert fake_ubus.calls == [("connect", "/tmp/none.sock"), ("loop", 200), ("disconnect",)]


def test_service_rounds_with_a_bus(fake_ubus, tmp_path, monkeypatch):
    from wgpy.router import service
    (tmp_path / "network").write_text("\nconfig interface 'wgx'\n\toption proto 'wgpy'\n")
    monkeypatch.setattr(service, "TICK_S", 0.05)
    assert service.run(Store(str(tmp_path)), rounds=2) == 0
    assert ("disconnect",) in fake_ubus.calls
    assert fake_ubus.sent == []  # no live peers here, so no up/down events
