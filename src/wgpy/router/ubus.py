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
    """The connection, the registered objects, and event sending."""

    def __init__(self, store: Store, socket_path: str = SOCKET) -> None:
        ubus.connect(socket_path=socket_path)
        for name, methods in objects(store).items():
            if name in ubus.objects():
                continue  # provided by rpcd already; theirs stays
            ubus.add(name, methods)

    def serve(self, seconds: float) -> None:
        """Answer calls for up to `seconds`."""
        ubus.loop(max(1, int(seconds * 1000)))

    def send(self, event: str, data: dict) -> None:
        ubus.send(event, data)

    def close(self) -> None:
        ubus.disconnect()

