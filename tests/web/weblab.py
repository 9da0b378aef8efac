"""A router and a client in network namespaces, for the browser tests (root, marker netns).

      ns R ("router"): wgpyd (via `wgpy up`), `wgpy web` on 127.0.0.1, Chromium (the LAN user)
      vR 10.55.0.1/24  <veth>  vC 10.55.0.2/24
      ns C ("phone"):  wireguard-go, configured from the .conf the wizard downloaded

Chromium runs inside ns R through a wrapper script, so it reaches the web server on ns R's
loopback; Playwright talks to it over a pipe, which crosses namespaces. Everything started
here is stopped by PID and the namespaces are deleted in close().
"""

import os
import signal
import subprocess
import sys
import time
from typing import List

from wgpy.uapi import client as uapi

PYTHON = sys.executable
ROUTER_IP, CLIENT_IP = "10.55.0.1", "10.55.0.2"


def wait_for(predicate, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def stop(pid: int) -> None:
    """SIGTERM, SIGKILL after 3 s; by PID only."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(30):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Lab:
    def __init__(self, tmp) -> None:
        self.tmp = tmp
        tag = f"{os.getpid() % 100000}"
        self.router, self.phone = f"wgpyR{tag}", f"wgpyC{tag}"
        self.ifname, self.client_if = f"wgw{tag}", f"wgc{tag}"
        self.pids: List[int] = []
        self.env = dict(os.environ, WGPY_RUN_DIR=str(tmp / "run"))

    def ns(self, name: str, *argv: str, check: bool = True, **kw):
        result = subprocess.run(["ip", "netns", "exec", name, *argv], capture_output=True,
                                text=True, env=self.env, timeout=30, **kw)
        if check and result.returncode != 0:
            raise AssertionError(f"{argv}: {result.stdout}{result.stderr}")
        return result

    def spawn(self, name: str, *argv: str, log: str) -> subprocess.Popen:
        out = open(self.tmp / log, "w")
        proc = subprocess.Popen(["ip", "netns", "exec", name, *argv], stdout=out,
                                stderr=subprocess.STDOUT, env=self.env)
        self.pids.append(proc.pid)
        return proc

    def setup(self) -> None:
        for name in (self.router, self.phone):
            subprocess.run(["ip", "netns", "add", name], check=True)
            self.ns(name, "ip", "link", "set", "lo", "up")
        subprocess.run(["ip", "link", "add", "vR", "netns", self.router, "type", "veth",
                        "peer", "name", "vC", "netns", self.phone], check=True)
        for name, dev, ip in ((self.router, "vR", ROUTER_IP), (self.phone, "vC", CLIENT_IP)):
            self.ns(name, "ip", "addr", "add", f"{ip}/24", "dev", dev)
            self.ns(name, "ip", "link", "set", dev, "up")

    def wgpy(self, confdir, *args: str):
        """The router command (`wgpy -c DIR ...`) inside ns R."""
        return self.ns(self.router, PYTHON, "-m", "wgpy.cli", "-c", str(confdir),
                       *args)

    def router_up(self, confdir) -> None:
        self.wgpy(confdir, "up", self.ifname)
        pid = uapi.peer_pid(self.ifname)
        assert pid, "wgpyd is not answering"
        self.pids.append(pid)

    def start_web(self, confdir, port: int, passwd_file) -> None:
        self.spawn(self.router, PYTHON, "-m", "wgpy.cli", "-c", str(confdir), "web",
                   "--listen", f"127.0.0.1:{port}", "--passwd-file", str(passwd_file),
                   "--shadow", str(self.tmp / "no-shadow"), log="web.log")
        wait_for(lambda: self.ns(self.router, "python3", "-c",
                                 f"import socket; socket.create_connection(('127.0.0.1', {port}))",
                                 check=False).returncode == 0, "wgpy web to listen")

    def chromium_wrapper(self) -> str:
        """An executable that starts Debian's chromium inside ns R."""
        path = self.tmp / "chromium-in-router"
        path.write_text(f"#!/bin/sh\nexec ip netns exec {self.router} /usr/bin/chromium \"$@\"\n")
        path.chmod(0o755)
        return str(path)

    def client_up(self, conf_path) -> None:
        """wireguard-go in ns C configured from a wg-quick file: `wg-quick strip` gives the
        wg(8) part, Address and AllowedIPs become addresses and routes, as wg-quick does."""
        text = conf_path.read_text()
        addresses = [a.strip() for a in _value(text, "Address").split(",")]
        allowed = [a.strip() for a in _value(text, "AllowedIPs").split(",")]
        stripped = subprocess.run(["wg-quick", "strip", str(conf_path)], capture_output=True,
                                  text=True, check=True).stdout
        (self.tmp / "client.wg").write_text(stripped)
        self.spawn(self.phone, "wireguard-go", "-f", self.client_if, log="wireguard-go.log")
        wait_for(lambda: uapi.is_live(self.client_if), "wireguard-go")
        self.ns(self.phone, "wg", "setconf", self.client_if, str(self.tmp / "client.wg"))
        for address in addresses:
            self.ns(self.phone, "ip", "addr", "add", address, "dev", self.client_if)
        self.ns(self.phone, "ip", "link", "set", self.client_if, "up")
        for net in allowed:
            self.ns(self.phone, "ip", "route", "add", net, "dev", self.client_if)

    def ping_router(self, tunnel_ip: str) -> bool:
        return self.ns(self.phone, "ping", "-c", "1", "-W", "2", tunnel_ip,
                       check=False).returncode == 0

    def close(self) -> None:
        for pid in reversed(self.pids):
            stop(pid)
        for name in (self.router, self.phone):
            subprocess.run(["ip", "netns", "del", name], check=False)
        for ifname in (self.ifname, self.client_if):
            try:
                os.unlink(uapi.socket_path(ifname))
            except FileNotFoundError:
                pass


def _value(conf: str, key: str) -> str:
    for line in conf.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() == key:
            return value.strip()
    raise AssertionError(f"no {key} in the config")
