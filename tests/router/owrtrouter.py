"""A throwaway OpenWrt router (../shared/owrt/router-ns.sh: the real ubusd, rpcd, uhttpd in a
network + mount namespace) driven from Python tests. Each call runs the shell helper of the
same name in bash; paths inside are router paths (/etc/config, /var/run/ubus/ubus.sock)."""

import json
import os
import subprocess

from support import owrt


def sh(script: str, *args: str, check: bool = True, timeout: float = 60):
    """`script` in bash after sourcing env.sh and router-ns.sh; "$@" is `args`."""
    full = f'. "{owrt.ENV_SH}" && . "{owrt.ROUTER_NS}" && {script}'
    result = subprocess.run(["bash", "-c", full, "owrt", *args], capture_output=True,
                            text=True, env=owrt.env(), timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{script} {args} failed ({result.returncode}): "
                             f"{result.stdout}{result.stderr}")
    return result


def shadow_entry(user: str, password: str) -> str:
    """An /etc/shadow line for rpcd's `$p$user` logins."""
    return sh('owrt_shadow_entry "$@"', user, password).stdout


class OwrtRouter:
    def __init__(self, name: str) -> None:
        self.name = name

    def sh(self, script: str, *args: str, check: bool = True, timeout: float = 60):
        return sh(script, *args, check=check, timeout=timeout)

    def start(self, confdir: str, *options: str) -> None:
        self.sh('owrt_router_start "$@"', self.name, confdir, *options)

    def stop(self) -> None:
        self.sh('owrt_router_stop "$1"', self.name, check=False)

    def exec(self, *argv: str, check: bool = True, timeout: float = 60):
        """Run argv inside (the caller's environment, router PATH first)."""
        return self.sh('owrt_router_exec "$@"', self.name, *argv, check=check, timeout=timeout)

    def spawn(self, label: str, *argv: str) -> int:
        """Start argv in the background inside (clean environment, output in log `label`);
        -> its PID. owrt_router_stop stops it."""
        out = self.sh('owrt_router_spawn "$@" && echo "$OWRT_SPAWNED_PID"',
                      self.name, label, *argv)
        return int(out.stdout.split()[-1])

    def pid(self, label: str) -> int:
        """PID of a daemon or spawned process, from the router's state (never by name: the
        PID namespace is the host's)."""
        path = self.sh('owrt_router_log "$@"', self.name, label).stdout.strip()
        with open(os.path.join(os.path.dirname(os.path.dirname(path)), "daemons")) as f:
            return [int(pid) for name, pid in (line.split() for line in f) if name == label][-1]

    def log(self, label: str) -> str:
        path = self.sh('owrt_router_log "$@"', self.name, label).stdout.strip()
        with open(path, errors="replace") as f:
            return f.read()

    def login(self, user: str, password: str) -> str:
        return self.sh('owrt_router_login "$@"', self.name, user, password).stdout.strip()

    def rpc(self, sid: str, obj: str, method: str, args: dict = None) -> dict:
        """A JSON-RPC `call` through uhttpd's /ubus, as LuCI's rpc.js makes it."""
        out = self.sh('owrt_router_rpc "$@"', self.name, sid, obj, method,
                      json.dumps(args or {})).stdout
        return json.loads(out)

    def post(self, body) -> object:
        """POST `body` (JSON-RPC, e.g. a batch list) to uhttpd's /ubus; -> the parsed reply."""
        out = self.sh('owrt_router_exec "$1" curl -sS --max-time 10 '
                      '-H "Content-Type: application/json" --data-binary "$2" '
                      '"$(owrt_router_url "$1")/ubus"', self.name, json.dumps(body)).stdout
        return json.loads(out)

    def ubus(self, *argv: str, check: bool = True):
        """The `ubus` CLI inside: -> (exit status, parsed JSON reply or None)."""
        result = self.exec("ubus", *argv, check=check)
        return result.returncode, (json.loads(result.stdout) if result.stdout.strip() else None)

