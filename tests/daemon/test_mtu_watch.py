"""daemon/mtu.py: MtuWatch reports every MTU change of its link, and only changes, in a
namespace of its own (root, marker `netns`)."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]

# In the namespace: watch va; 1400, a burst of 300 changes ending at 1300 (more events
# than the socket buffer may hold), then an unrelated link's change.
_SCRIPT = """
import json, select, subprocess
from wgpy.daemon.mtu import MtuWatch
seen = []
watch = MtuWatch("va", 1500, seen.append)
def settle():
    while select.select([watch], [], [], 0.2)[0]:
        watch.on_readable()
def ip(*args):
    subprocess.run(["ip", *args], check=True)
ip("link", "set", "va", "mtu", "1400")
settle()
with open("/tmp/batch", "w") as f:
    f.writelines(f"link set va mtu {1301 + i % 150}\\n" for i in range(299))
    f.write("link set va mtu 1300\\n")
ip("-batch", "/tmp/batch")
settle()
ip("link", "set", "vb", "mtu", "1280")
settle()
print(json.dumps(seen))
"""


def test_watch_follows_the_link(tmp_path):
    ns = f"wgpym{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "add", "va", "type", "veth", "peer", "name",
                        "vb"], check=True)
        script = _SCRIPT.replace("/tmp/batch", str(tmp_path / "batch"))
        out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", script],
                             check=True, capture_output=True, text=True, timeout=60).stdout
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
    seen = json.loads(out)
    assert seen[0] == 1400 and seen[-1] == 1300
    assert all(a != b for a, b in zip(seen, seen[1:]))   # changes only
