"""A router and a client in network namespaces, for the browser tests (root, marker netns).

      ns R ("router"): wgpyd (via `wgpy up`), `wgpy web` on 127.0.0.1, Chromium (the LAN user)
      vR 10.55.0.1/24  <veth>  vC 10.55.0.2/24
      ns C ("phone"):  wireguard-go, configured from the .conf the wizard downloaded

Chromium runs inside ns R through a wrapper script, so it reaches the web server on ns R's
loopback; Playwright talks to it over a pipe, which crosses namespaces. The namespaces and
processes are the shared lab's (support/netns.py): stopped by PID, deleted in close().
"""

import os
import subprocess

from support import netns
from support.procs import wait_for
from wgpy.uapi import client as uapi

# Headless Chromium for the page tests (started through Lab.chromium_wrapper).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

ROUTER_IP, CLIENT_IP = "10.55.0.1", "10.55.0.2"


class Lab:
    def __init__(self, tmp) -> None:
        self.tmp = tmp
        self.base = netns.Lab(f"wgpyw{netns.unique_tag()}", tmp)
        self.ifname, self.client_if = self.base.ifname("wgw"), self.base.ifname("wgc")
        self.env = dict(os.environ, WGPY_RUN_DIR=str(tmp / "run"))

    def ns(self, name: str, *argv: str, check: bool = True, **kw):
        return self.base.run(name, *argv, check=check, env=self.env, timeout=30, **kw)

    def spawn(self, name: str, *argv: str, log: str) -> subprocess.Popen:
        return self.base.spawn(log.rsplit(".log", 1)[0], name, *argv, env=self.env)

    def setup(self) -> None:
        self.router, self.phone = self.base.netns("router"), self.base.netns("phone")
        self.base.veth(self.router, "vR", self.phone, "vC")
        for name, dev, ip in ((self.router, "vR", ROUTER_IP), (self.phone, "vC", CLIENT_IP)):
            self.base.address(name, dev, f"{ip}/24")

    def wgpy(self, confdir, *args: str):
        """The router command (`wgpy -c DIR ...`) inside ns R."""
        return self.base.wgpy(self.router, *args, confdir=confdir, env=self.env, timeout=30)

    def router_up(self, confdir) -> None:
        self.wgpy(confdir, "up", self.ifname)
        assert uapi.peer_pid(self.ifname), "wgpyd is not answering"

    def start_web(self, confdir, port: int, passwd_file) -> None:
        self.spawn(self.router, netns.PYTHON, "-m", "wgpy.cli", "-c", str(confdir), "web",
                   "--listen", f"127.0.0.1:{port}", "--passwd-file", str(passwd_file),
                   "--shadow", str(self.tmp / "no-shadow"), log="web.log")
        wait_for(lambda: self.ns(self.router, "python3", "-c",
                                 f"import socket; socket.create_connection(('127.0.0.1', {port}))",
                                 check=False).returncode == 0, "wgpy web to listen", timeout=15)

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
        stripped = subprocess.run(["wg-quick", "strip", str(conf_path)], capture_output=True,
                                  text=True, check=True).stdout
        self.base.wireguard_go(self.phone, self.client_if, stripped,
                               addresses=[a.strip() for a in _value(text, "Address").split(",")],
                               routes=[a.strip() for a in _value(text, "AllowedIPs").split(",")])

    def ping_router(self, tunnel_ip: str) -> bool:
        return self.ns(self.phone, "ping", "-c", "1", "-W", "2", tunnel_ip,
                       check=False).returncode == 0

    def close(self) -> None:
        self.base.close()


def _value(conf: str, key: str) -> str:
    for line in conf.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() == key:
            return value.strip()
    raise AssertionError(f"no {key} in the config")
