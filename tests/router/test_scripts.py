"""The package's shell scripts (proto handler, init script, first-boot defaults, iface
hotplug): shellcheck-clean, and exercised by sourcing them in sh with
recording stand-ins for the netifd (netifd-proto.sh) and procd (procd.sh) functions; each
stand-in appends its name and arguments to $CALLS, and the test checks the calls made."""

import os
import shutil
import subprocess
import sys

import pytest
from routerlab import ENDPOINT
from test_end_to_end import network_config, router, server_peer_section, write

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FILES = os.path.join(ROOT, "package", "wgpy", "files")
PROTO = os.path.join(FILES, "wgpy.sh")
INIT = os.path.join(FILES, "wgpy.init")
DEFAULTS = os.path.join(FILES, "wgpy.defaults")
HOTPLUG = os.path.join(FILES, "wgpy.hotplug")

STANDINS = r"""
record() { printf '%s\n' "$*" >> "$CALLS"; }
for f in proto_config_add_string proto_config_add_int proto_config_add_boolean \
         proto_config_add_array proto_init_update proto_add_ipv4_address \
         proto_add_ipv6_address proto_add_ipv4_route proto_add_ipv6_route \
         proto_add_host_dependency proto_send_update proto_notify_error proto_setup_failed \
         proto_kill_command add_protocol procd_open_instance procd_set_param procd_close_instance \
         procd_add_reload_trigger; do
    eval "$f() { record $f \"\$@\"; }"
done
json_get_var() { eval "$1=\$JSON_$2"; }
# netifd starts the proto task; here it is started in the background (when runnable).
proto_run_command() { record proto_run_command "$@"; shift; [ -x "$1" ] && "$@" >/dev/null 2>&1 & }
"""


def run_sh(tmp_path, script: str, wgpy: str, env=None) -> list:
    """Run `script` after the stand-ins; -> the recorded calls, one list per call."""
    calls = tmp_path / "calls"
    calls.write_text("")
    full = STANDINS + script
    result = subprocess.run(["sh", "-c", full], capture_output=True, text=True,
                            env=dict(os.environ, CALLS=str(calls), WGPY=wgpy,
                                     INCLUDE_ONLY="1", **(env or {})))
    calls_list = [line.split(" ") for line in calls.read_text().splitlines()]
    return [result.returncode, result.stdout, result.stderr, calls_list]


def fake_wgpy(tmp_path, output: str, status: int = 0) -> str:
    """A `wgpy` that records its argv and prints `output`."""
    path = tmp_path / "wgpy"
    path.write_text(f"#!/bin/sh\necho \"wgpy $*\" >> \"$CALLS\"\n"
                    f"cat <<'EOF'\n{output}EOF\nexit {status}\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck not installed")
def test_shellcheck_clean():
    result = subprocess.run(["shellcheck", PROTO, INIT, DEFAULTS, HOTPLUG], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout


def test_proto_init_config_declares_the_wireguard_options(tmp_path):
    rc, out, err, calls = run_sh(
        tmp_path, f". {PROTO}; proto_wgpy_init_config; "
                  "echo $available $no_device ${no_proto_task:-0} $renew_handler", "wgpy")
    assert rc == 0, err
    # no_proto_task unset: wgpyd is netifd's proto task, supervised by it.
    assert out.split() == ["1", "1", "0", "1"]
    declared = {c[1].split(":")[0] for c in calls if c[0].startswith("proto_config_add")}
    assert declared == {"private_key", "listen_port", "mtu", "fwmark", "addresses",
                        "nohostroute", "tunlink", "killswitch"}


def test_proto_setup_reports_addresses_routes_and_host_dependencies(tmp_path):
    plan = ("address4 10.77.0.1 24\naddress6 fd00:77::1 64\nroute4 0.0.0.0 1\n"
            "route4 128.0.0.0 1\nroute6 :: 1\nhostdep 10.55.0.1\n"
            "error PEER_SKIPPED network: section 'p2': option 'public_key': bad key\n")
    rc, _, err, calls = run_sh(tmp_path, f". {PROTO}; proto_wgpy_setup wg0 wg0",
                               fake_wgpy(tmp_path, plan), env={"JSON_tunlink": "wan",
                                                               "WGPYD": "/nonexistent"})
    assert rc == 0, err
    assert calls == [
        ["proto_run_command", "wg0", "/nonexistent", "-f", "wg0"],
        ["wgpy", "up", "--netifd", "wg0"],
        ["proto_init_update", "wg0", "1"],
        ["proto_add_ipv4_address", "10.77.0.1", "24"],
        ["proto_add_ipv6_address", "fd00:77::1", "64"],
        ["proto_add_ipv4_route", "0.0.0.0", "1"],
        ["proto_add_ipv4_route", "128.0.0.0", "1"],
        ["proto_add_ipv6_route", "::", "1"],
        ["proto_add_host_dependency", "wg0", "10.55.0.1", "wan"],
        ["proto_send_update", "wg0"],
        # after the update: netifd clears errors when the interface goes up
        ["proto_notify_error", "wg0", "PEER_SKIPPED", "network:", "section", "'p2':",
         "option", "'public_key':", "bad", "key"],
    ]


def test_proto_setup_failure_is_reported_not_half_applied(tmp_path):
    out = "error CONFIG_ERROR network: section 'wg0': option 'private_key': bad\n"
    rc, _, _, calls = run_sh(tmp_path, f". {PROTO}; proto_wgpy_setup wg0 wg0",
                             fake_wgpy(tmp_path, out, status=1), env={"WGPYD": "/x"})
    assert rc == 1
    assert calls == [["proto_run_command", "wg0", "/x", "-f", "wg0"],
                     ["wgpy", "up", "--netifd", "wg0"],
                     ["proto_notify_error", "wg0", "CONFIG_ERROR", "network:", "section",
                      "'wg0':", "option", "'private_key':", "bad"],
                     ["proto_setup_failed", "wg0"]]


def test_proto_teardown_and_renew(tmp_path):
    wgpy = fake_wgpy(tmp_path, "address4 10.77.0.1 32\n")
    _, _, _, calls = run_sh(tmp_path, f". {PROTO}; proto_wgpy_teardown wg0", wgpy)
    assert calls == [["wgpy", "down", "--netifd", "wg0"], ["proto_kill_command", "wg0"]]
    _, _, _, calls = run_sh(tmp_path, f". {PROTO}; proto_wgpy_renew wg0 wg0", wgpy)
    # renew never starts a second proto task
    assert calls[0] == ["wgpy", "up", "--netifd", "wg0"] and calls[-1] == \
        ["proto_send_update", "wg0"]


def test_init_script_starts_nothing_and_reloads_on_network_commits(tmp_path):
    wgpy = fake_wgpy(tmp_path, "")
    rc, _, err, calls = run_sh(
        tmp_path, f". {INIT}; start_service; service_triggers; reload_service", wgpy)
    assert rc == 0, err
    assert calls == [
        ["procd_add_reload_trigger", "network"],
        ["wgpy", "reload", "--all"],
    ]


def fake_uci(tmp_path) -> dict:
    """A `uci` on PATH that records its argv; -> the environment that uses it."""
    uci = tmp_path / "uci"
    uci.write_text('#!/bin/sh\necho "uci $*" >> "$CALLS"\n'
                   'case "$*" in *batch*) cat >> "$CALLS";; '
                   '*network.wg0.proto*) echo wgpy;; *network.wan.proto*) echo pppoe;; esac\n')
    uci.chmod(0o755)
    return {"PATH": f"{tmp_path}:{os.environ['PATH']}"}


def test_defaults_add_the_watchdog_to_crontab_once(tmp_path):
    crontab = tmp_path / "crontabs" / "root"
    crontab.parent.mkdir()
    crontab.write_text("0 4 * * * /sbin/reboot\n")
    env = dict(fake_uci(tmp_path), CRONTAB=str(crontab))
    for _ in range(2):
        rc, _, err, _ = run_sh(tmp_path, f". {DEFAULTS}", "", env)
        assert rc == 0, err
    assert crontab.read_text() == ("0 4 * * * /sbin/reboot\n"
                                   "* * * * * /usr/bin/wgpy watchdog 2>&1 | logger -t wgpy\n")


@pytest.mark.parametrize("action, interface, running, runs", [
    ("ifup", "wan", True, True), ("ifupdate", "wan", True, True),
    ("ifup", "wan", False, False), ("ifdown", "wan", True, False),
    ("ifup", "wg0", True, False), ("ifup", "loopback", True, False)])
def test_hotplug_refreshes_the_mtu_when_another_interface_comes_up(
        tmp_path, action, interface, running, runs):
    wgpy = fake_wgpy(tmp_path, "")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    if running:
        (run_dir / "wg0.json").write_text("{}")
    env = dict(fake_uci(tmp_path), ACTION=action, INTERFACE=interface,
               WGPY_RUN_DIR=str(run_dir))
    # As hotplug-call sources it, in a subshell; then wait for its background job's call
    # (up to 5 s; 1 s where none should come).
    wait = f'i=0; until grep -q "^wgpy mtu" "$CALLS" || [ $i -ge {50 if runs else 10} ]; ' \
           'do sleep 0.1; i=$((i + 1)); done'
    rc, _, err, calls = run_sh(tmp_path, f"( . {HOTPLUG} ); {wait}", wgpy, env)
    assert rc == 0, err
    assert (["wgpy", "mtu"] in calls) == runs


@pytest.mark.netns
def test_proto_handler_with_the_real_wgpy(lab):
    """The handler sourced inside the router namespace with the real `wgpy up --netifd`."""
    ifname, private = router(lab)
    write(lab, network_config(ifname, private, server_peer_section(
        ifname, lab.server_public, allowed="0.0.0.0/0",
        extra="\toption route_allowed_ips '1'\n")))
    wrapper = lab.tmp_path / "wgpy-real"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -m wgpy.cli "
                       f"-c {lab.tmp_path}/config \"$@\"\n")
    wrapper.chmod(0o755)
    calls = lab.tmp_path / "calls"
    calls.write_text("")
    script = STANDINS + f". {PROTO}; proto_wgpy_setup {ifname} {ifname}"
    wgpyd = os.path.join(os.path.dirname(sys.executable), "wgpyd")
    lab.run(lab.R, "env", f"CALLS={calls}", f"WGPY={wrapper}", f"WGPYD={wgpyd}",
            "INCLUDE_ONLY=1", "JSON_tunlink=", "sh", "-c", script)
    recorded = [line.split(" ") for line in calls.read_text().splitlines()]
    assert recorded == [
        ["proto_run_command", ifname, wgpyd, "-f", ifname],
        ["proto_init_update", ifname, "1"],
        ["proto_add_ipv4_address", "10.77.0.1", "24"],
        ["proto_add_ipv4_route", "0.0.0.0", "1"],
        ["proto_add_ipv4_route", "128.0.0.0", "1"],
        ["proto_add_host_dependency", ifname, ENDPOINT, ""],
        ["proto_send_update", ifname],
    ]
    # netifd, not wgpy, owns addresses and routes here: none were set by wgpy.
    assert "10.77.0.1" not in lab.run(lab.R, "ip", "addr", "show", ifname).stdout
    flags = lab.run(lab.R, "ip", "link", "show", ifname).stdout.split("<")[1].split(">")[0]
    assert "UP" in flags.split(",")  # wgpy brought the link up; netifd does the rest
    lab.run(lab.R, "env", f"CALLS={calls}", f"WGPY={wrapper}", "INCLUDE_ONLY=1", "sh", "-c",
            STANDINS + f". {PROTO}; proto_wgpy_teardown {ifname}")
    assert not lab.ok(lab.R, "ip", "link", "show", ifname)
