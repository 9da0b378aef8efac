"""Issue 12 item 6: every wgpy UCI write takes libuci's lock, so `uci set; uci commit` (the
real CLI from ../shared/owrt) and wgpy's writers (Store and the web edit path) running at
the same time never lose each other's edits."""

import base64
import subprocess
import threading

import pytest

from support import owrt

from wgpy import keys as wgkeys
from wgpy.uci import schema
from wgpy.uci.store import Store
from wgpy.web import actions

owrt.need()

ROUNDS = 100
PRIVATE = base64.b64encode(bytes(range(1, 33))).decode()


@pytest.fixture
def dirs(tmp_path):
    for name in ("conf", "delta", "override"):
        (tmp_path / name).mkdir()
    (tmp_path / "conf" / "network").write_text(
        f"config interface 'wg0'\n\toption proto 'wgpy'\n\toption private_key '{PRIVATE}'\n")
    return tmp_path


def _uci_loop(dirs, rounds: int) -> subprocess.Popen:
    """`uci set` + `uci commit` of one new option per round, as a script would."""
    uci = [owrt.binary("uci"), "-c", str(dirs / "conf"), "-t", str(dirs / "delta"),
           "-C", str(dirs / "override")]
    script = (f'for i in $(seq {rounds}); do "$@" set network.wg0.uci_$i=v$i && '
              f'"$@" commit network || exit 1; done')
    return subprocess.Popen(["sh", "-c", script, "sh", *uci], env=owrt.env(),
                            stderr=subprocess.PIPE)


def test_uci_commit_and_wgpy_writes_lose_nothing(dirs):
    store = Store(str(dirs / "conf"), backend="syntax", overridedir=str(dirs / "override"))
    ctx = actions.Context(store)
    keys = [wgkeys.generate() for _ in range(ROUNDS // 2)]
    errors = []

    def wgpy_writes():
        try:
            for i in range(ROUNDS):
                if i % 2:  # the web's edit path: a new peer section
                    body = {"public_key": wgkeys.public_key(keys[i // 2]),
                            "description": f"web {i}"}
                    actions.add_peer(ctx, "wg0", body)
                else:
                    store.set_option(schema.NETWORK, "wg0", f"wgpy_{i}", str(i))
        except Exception as exc:  # reported below, with the uci side's result
            errors.append(exc)

    uci = _uci_loop(dirs, ROUNDS)
    writer = threading.Thread(target=wgpy_writes)
    writer.start()
    writer.join(120)
    _, stderr = uci.communicate(timeout=120)
    assert not errors and uci.returncode == 0, (errors, stderr)

    package = store.load(schema.NETWORK)
    options = package.find("wg0").options
    lost_uci = [i for i in range(1, ROUNDS + 1) if f"uci_{i}" not in options]
    lost_wgpy = [i for i in range(0, ROUNDS, 2) if f"wgpy_{i}" not in options]
    descriptions = {s.get("description") for s in package.sections}
    lost_web = [i for i in range(1, ROUNDS, 2) if f"web {i}" not in descriptions]
    assert (lost_uci, lost_wgpy, lost_web) == ([], [], [])
    # No temp file of either writer is left behind.
    assert sorted(p.name for p in (dirs / "conf").iterdir()) == ["network"]
