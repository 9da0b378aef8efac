"""wgpy.peer.up/down from wgpyd (daemon/events.py): one event per transition, with what
`wg show` would print, and a shell line that survives any text in it. The real ubusd and
`ubus listen` see them in tests/router/test_no_resident.py."""

import base64
import json
import os
import subprocess

from wgpy.daemon.events import EVENT_DOWN, EVENT_UP, PeerEvents, send_command
from wgpy.protocol.constants import REJECT_AFTER_TIME
from wgpy.protocol.device import Device

NOW = 1_800_000_000.0


def test_one_event_per_transition():
    wall = [NOW]
    dev = Device(rng=os.urandom, wall_clock=lambda: wall[0])
    key_a, key_b = os.urandom(32), os.urandom(32)
    a, b = dev.add_peer(key_a, 0.0), dev.add_peer(key_b, 0.0)
    sent = []
    events = PeerEvents("wg0", send=lambda name, data: sent.append((name, data)))

    def seen():
        out = list(sent)
        sent.clear()
        return out

    events.check(dev)
    assert seen() == []                        # no handshake yet: nothing is up
    a.endpoint = ("192.0.2.7", 51820)
    a.last_handshake_wall = NOW - 5
    events.check(dev)
    events.check(dev)                          # still up: nothing new
    assert seen() == [(EVENT_UP, {"interface": "wg0",
                                  "public_key": base64.b64encode(key_a).decode(),
                                  "endpoint": "192.0.2.7:51820",
                                  "latest_handshake": int(NOW - 5)})]
    b.last_handshake_wall = NOW
    wall[0] = NOW - 5 + REJECT_AFTER_TIME      # a's session can no longer be valid
    events.check(dev)
    assert [(name, data["public_key"]) for name, data in seen()] == [
        (EVENT_UP, base64.b64encode(key_b).decode()),
        (EVENT_DOWN, base64.b64encode(key_a).decode())]
    dev.remove_peer(key_b)
    events.check(dev)
    [(name, data)] = seen()
    assert name == EVENT_DOWN and data["public_key"] == base64.b64encode(key_b).decode()
    assert data["endpoint"] == ""


def test_the_shell_line_passes_any_text_through(tmp_path):
    """A stand-in `ubus` prints its argv: the JSON arrives as one argument, intact."""
    (tmp_path / "ubus").write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {tmp_path}/argv\n")
    (tmp_path / "ubus").chmod(0o755)
    data = {"interface": "it's \"odd\" $(x) `y`", "n": 1}
    subprocess.run(["/bin/sh", "-c", send_command(EVENT_UP, data) + " wait"], check=True,
                   env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert (tmp_path / "argv").read_text().splitlines() == \
        ["send", EVENT_UP, json.dumps(data)]


def test_without_ubus_nothing_happens():
    result = subprocess.run(["/bin/sh", "-c", send_command(EVENT_UP, {})], capture_output=True,
                            env={"PATH": "/nonexistent"}, timeout=5)
    assert result.returncode == 0 and result.stdout == b"" and result.stderr == b""
