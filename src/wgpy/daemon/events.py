"""The ubus events wgpy.peer.up and wgpy.peer.down, sent by wgpyd itself: it is the one
process that sees every handshake, so no other process has to poll it for them.

A peer is up from a completed handshake until REJECT_AFTER_TIME passes without another
(no session can be valid after it; `wgpy status` calls such a peer "stale"), or until it is
removed. Only transitions send anything: one `ubus send` per change, started in the
background through the shell, so the loop never waits on ubusd; where there is no `ubus`
(a development box, wg-quick) the shell finds none and nothing happens. The event carries
what wgpyd knows: interface, public key (base64, as `wg` prints it), endpoint and the
handshake time; the UCI description is the router's to add (`ubus call wgpy status`).

Portable to MicroPython: json, binascii and os.system only.
"""

import binascii
import json
import os

from wgpy.protocol.constants import REJECT_AFTER_TIME
from wgpy.uapi.text import format_endpoint

EVENT_UP = "wgpy.peer.up"
EVENT_DOWN = "wgpy.peer.down"


def is_up(last_handshake_wall, wall_now: float) -> bool:
    return bool(last_handshake_wall) and wall_now - last_handshake_wall < REJECT_AFTER_TIME


def _quote(text: str) -> str:
    """One shell word: single quotes, with any single quote closed, escaped and reopened."""
    return "'" + text.replace("'", "'\\''") + "'"


def send_command(event: str, data: dict) -> str:
    """The shell line that sends one event without making the caller wait."""
    line = f"ubus send {event} {_quote(json.dumps(data))}"
    return f"(command -v ubus && exec {line}) >/dev/null 2>&1 &"


def send(event: str, data: dict) -> None:
    os.system(send_command(event, data))


class PeerEvents:
    """check(dev) once in a while (the loop's housekeeping); it sends what changed since."""

    def __init__(self, ifname: str, send=send) -> None:
        self.ifname, self.send = ifname, send
        self.up = {}    # public key (bytes) -> the data of its wgpy.peer.up

    def check(self, dev) -> None:
        now = dev.wall_clock()
        for key, peer in dev.peers.items():
            if key not in self.up and is_up(peer.last_handshake_wall, now):
                self.up[key] = self._data(peer)
                self.send(EVENT_UP, self.up[key])
        for key in list(self.up):
            peer = dev.peers.get(key)
            if peer is None or not is_up(peer.last_handshake_wall, now):
                data = self._data(peer) if peer is not None else self.up[key]
                del self.up[key]
                self.send(EVENT_DOWN, data)

    def _data(self, peer) -> dict:
        endpoint = peer.endpoint
        return {"interface": self.ifname,
                "public_key": binascii.b2a_base64(peer.public_key).decode().strip(),
                "endpoint": format_endpoint(*endpoint) if endpoint else "",
                "latest_handshake": int(peer.last_handshake_wall or 0)}
