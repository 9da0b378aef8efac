"""Thin glue between the handlers and OpenWrt's python3-ubus bindings; imported only when
the `ubus` module exists (service.py checks).

Registers `wireguard` (rpcd-mod-wireguard's methods), `luci.wireguard` (luci-proto-wireguard's)
and `wgpy` (status, reload). An object name already taken (rpcd-mod-wireguard or the ucode
plugin installed too) is skipped.

python3-ubus checks signatures strictly: every declared argument is required and any other is
refused with status 2 (invalid argument) before the callback runs. uhttpd adds
`ubus_rpc_session` to every call made over HTTP, so an object must pick its callers:
`luci.wireguard` is called by LuCI's pages through uhttpd and declares `ubus_rpc_session`;
`wireguard` (read by local tools such as the Prometheus exporter) and `wgpy` are called on the
router itself and declare only their own arguments. No rpcd ACL grants those two over HTTP.
"""

import time
from typing import Callable, Dict

import ubus  # type: ignore[import-not-found]

from wgpy.router import control, handlers
from wgpy.uci.store import Store

SOCKET = "/var/run/ubus/ubus.sock"
SESSION = "ubus_rpc_session"  # uhttpd's caller session id, added to every call over HTTP


def _method(call: Callable[[dict], dict], signature: Dict[str, int]) -> dict:
    def callback(req, args):
        req.reply(call(args or {}))
    return {"method": callback, "signature": signature}


def objects(store: Store) -> Dict[str, Dict[str, dict]]:
    """{object: {method: {"method": cb, "signature": {...}}}} as ubus.add wants them."""
    string = ubus.BLOBMSG_TYPE_STRING
    web = {SESSION: string}
    snap = lambda: control.gather(store)  # noqa: E731 - read fresh on every call
    return {
        "wireguard": {
            "status": _method(lambda a: handlers.wireguard_status(snap()), {}),
            "genkey": _method(lambda a: handlers.wireguard_genkey(), {}),
            "genpsk": _method(lambda a: handlers.wireguard_genpsk(), {}),
            "pubkey": _method(handlers.wireguard_pubkey, {"private": string}),
        },
        "luci.wireguard": {
            "getWgInstances": _method(lambda a: handlers.luci_get_wg_instances(snap()), web),
            "generateKeyPair": _method(lambda a: handlers.luci_generate_key_pair(), web),
            "generatePsk": _method(lambda a: handlers.luci_generate_psk(), web),
            "getPublicAndPrivateKeyFromPrivate": _method(handlers.luci_public_from_private,
                                                         dict(web, privkey=string)),
        },
        "wgpy": {
            "status": _method(lambda a: handlers.wgpy_status(snap()), {}),
            "reload": _method(lambda a: _reload(store), {}),
        },
    }


def _reload(store: Store) -> dict:
    act, stop = control.all_targets(store, "reload")
    results = [control.reload(store, n) for n in act] + [control.down(n) for n in stop]
    return {"interfaces": {r.ifname: r.as_dict() for r in results}}


class Bus:
    """The connection, the registered objects, and event sending. python3-ubus never notices
    ubusd going away (procd restarts it; our objects are gone with it): `lost` probes with a
    lookup, and `reconnect` registers everything again."""

    def __init__(self, store: Store, socket_path: str = SOCKET) -> None:
        self.store, self.socket_path = store, socket_path
        self._register()

    def _register(self) -> None:
        ubus.connect(socket_path=self.socket_path)
        for name, methods in objects(self.store).items():
            if name in ubus.objects():
                continue  # provided by rpcd already; theirs stays
            ubus.add(name, methods)

    def lost(self) -> bool:
        """True when not connected or ubusd no longer answers."""
        if not ubus.get_connected():
            return True
        try:
            ubus.objects("wgpy")  # any lookup: it fails once ubusd's socket is gone
        except RuntimeError:
            return True
        return False

    def reconnect(self) -> None:
        """Connect and register again; raises OSError/RuntimeError while ubusd is down."""
        if ubus.get_connected():
            ubus.disconnect()
        self._register()

    def serve(self, seconds: float) -> None:
        """Answer calls for up to `seconds` (just wait while disconnected)."""
        if ubus.get_connected():
            ubus.loop(max(1, int(seconds * 1000)))
        else:
            time.sleep(seconds)

    def send(self, event: str, data: dict) -> None:
        """Broadcast an event; one sent while ubusd is gone is lost with its listeners."""
        try:
            ubus.send(event, data)
        except RuntimeError:
            pass

    def close(self) -> None:
        if ubus.get_connected():
            ubus.disconnect()
