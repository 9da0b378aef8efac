"""Namespace lab for the router tests (root, marker `netns`). Only namespaces made here and
private addresses inside them; `close` kills what it started, by PID, and deletes them.

    ns L (LAN)              ns R (router: `wgpy up` -> wgpyd)       ns S (server: wireguard-go)
    vL 192.168.77.2/24 <-> vRL 192.168.77.1/24
                            vRW 10.66.0.1/24            <->         vSW 10.66.0.2/24
                            default via 10.66.0.2                   lo 10.55.0.1 (endpoint),
                            wgR 10.77.0.1/24 (from UCI)                10.99.0.1 ("internet")
                                                                    wgS 10.77.0.2/24
The server's endpoint sits behind R's default gateway, so a 0.0.0.0/0 tunnel route would
swallow it without the host route wgpy adds.
"""

import json
import os
import shutil
import signal
import subprocess
import time

from support import netns
from support.keys import genkey  # noqa: F401  (the router tests' key pairs)
from support.procs import wait_for
from wgpy.router import netconf

PYTHON = netns.PYTHON

ENDPOINT = "10.55.0.1"
INTERNET = "10.99.0.1"
SERVER_PORT = 51820


class Lab(netns.Lab):
    def __init__(self, tmp_path) -> None:
        super().__init__(f"wgpyr{netns.unique_tag()}", tmp_path)
        self.tmp_path = tmp_path
        self.etc_dirs = []
        self.made_etc_netns = False

    def hosts(self, ns: str, text: str) -> None:
        """/etc/hosts as seen inside `ns` (ip netns exec bind-mounts /etc/netns/NS)."""
        directory = f"/etc/netns/{ns}"
        if not os.path.isdir("/etc/netns"):
            self.made_etc_netns = True
        os.makedirs(directory, exist_ok=True)
        if directory not in self.etc_dirs:
            self.etc_dirs.append(directory)
        with open(f"{directory}/hosts", "w") as f:
            f.write(text)

    def ifname(self, stem: str = "wgr") -> str:
        return super().ifname(stem)

    # ---- the topology ----

    def build(self, lan: bool = False) -> None:
        self.R, self.S = self.netns("R"), self.netns("S")
        self.veth(self.R, "vRW", self.S, "vSW")
        self.run(self.R, "ip", "addr", "add", "10.66.0.1/24", "dev", "vRW")
        self.run(self.R, "ip", "route", "add", "default", "via", "10.66.0.2")
        self.run(self.S, "ip", "addr", "add", "10.66.0.2/24", "dev", "vSW")
        for address in (ENDPOINT, INTERNET):
            self.run(self.S, "ip", "addr", "add", f"{address}/32", "dev", "lo")
        self.L = None
        if lan:
            self.L = self.netns("L")
            self.veth(self.L, "vL", self.R, "vRL")
            self.run(self.L, "ip", "addr", "add", "192.168.77.2/24", "dev", "vL")
            self.run(self.L, "ip", "route", "add", "default", "via", "192.168.77.1")
            self.run(self.R, "ip", "addr", "add", "192.168.77.1/24", "dev", "vRL")
            self.run(self.R, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def start_server(self, router_public: str, allowed: str = "10.77.0.1/32") -> None:
        """wireguard-go in S with R as its only peer."""
        self.server_if = self.ifname()
        self.server_private, self.server_public = genkey()
        self.wireguard_go(self.S, self.server_if, (
            f"[Interface]\nPrivateKey = {self.server_private}\nListenPort = {SERVER_PORT}\n\n"
            f"[Peer]\nPublicKey = {router_public}\nAllowedIPs = {allowed}\n"),
            addresses=["10.77.0.2/24"],
            routes=["192.168.77.0/24"] if "192.168.77.0/24" in allowed else [])

    def iperf3_server(self, address: str, port: int = 5201) -> None:
        """iperf3 -s in S, in the foreground so `close` stops it (-D would outlive us)."""
        proc = self.spawn("iperf3-server", self.S, "iperf3", "-s", "-B", address, "-p", str(port))
        wait_for(lambda: f":{port} " in self.run(self.S, "ss", "-ltn").stdout, "iperf3 -s",
                 proc=proc)

    def server_peer(self) -> dict:
        """R as S's wireguard-go sees it: `wg show dump` fields."""
        line = self.run(self.S, "wg", "show", self.server_if, "dump").stdout.split("\n")[1]
        fields = line.split("\t")
        return {"endpoint": fields[2], "handshake": int(fields[4]), "rx": int(fields[5])}

    def python(self, ns: str, code: str):
        """Run Python code inside `ns`; -> its stdout parsed as JSON."""
        return json.loads(self.run(ns, netns.PYTHON, "-c", code, timeout=60).stdout)

    def close(self) -> None:
        names = list(self.uapi_names)
        super().close()
        for directory in self.etc_dirs:
            shutil.rmtree(directory, ignore_errors=True)
        self.etc_dirs = []
        if self.made_etc_netns:
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass  # someone else put something there meanwhile
        for name in names:
            path = os.path.join(netconf.RUN_DIR, f"{name}.json")    # `wgpy up`'s record
            if os.path.exists(path):
                os.unlink(path)


def kill_and_recover(lab: Lab, kills: int, pid_of, is_ready, bound_s: float,
                     what: str, proc=None) -> list:
    """`kill -9` wgpyd (`pid_of()`) `kills` times while iperf3 runs from L to INTERNET
    through the tunnel, each time waiting until `is_ready()` with a new wgpyd; -> the
    recovery times in seconds. iperf3 is restarted when it gave up."""
    lab.iperf3_server(INTERNET)
    iperf, times = None, []
    try:
        for _ in range(kills):
            if iperf is None or iperf.poll() is not None:
                iperf = subprocess.Popen(["ip", "netns", "exec", lab.L, "iperf3", "-c",
                                          INTERNET, "-t", "3600", "-b", "20M"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            pid = pid_of()
            assert pid, f"no wgpyd to kill ({what})"
            start = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: pid_of() not in (None, 0, pid) and is_ready(),
                     f"the tunnel back after kill -9 ({what})", timeout=bound_s, proc=proc)
            times.append(time.monotonic() - start)
    finally:
        if iperf is not None:
            iperf.kill()
            iperf.wait()
    return times
