"""The router-CPU bench's reading of the guest console (tests/bench/bench_router_cpu.py)."""

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import bench_router_cpu as bench  # noqa: E402


def iperf3_json(bps):
    return json.dumps({"end": {"sum_sent": {"bits_per_second": bps * 2},
                               "sum_received": {"bits_per_second": bps}}}, indent="\t")


def test_console_runs_errors_and_kernel_noise():
    # The serial console ends lines with \r\n, and the kernel may print between runs.
    console = "\r\n".join([
        "[    0.000000] Linux version 6.1.0",
        "@@BEGIN kernel 1", iperf3_json(120e6), "@@END kernel 1",
        "@@BEGIN kernel 2", iperf3_json(118.5e6), "@@END kernel 2",
        "@@BEGIN wgpyd 1", json.dumps({"error": "unable to connect"}), "@@END wgpyd 1",
        "@@ERROR wireguard-go: no ping through the tunnel",
        "@@DONE", ""])
    results, errors = bench.parse_console(console)
    assert results == {"kernel": [120.0, 118.5]}
    assert errors == ["wireguard-go: no ping through the tunnel",
                      "wgpyd: iperf3: unable to connect"]


def test_module_order_puts_dependencies_first(tmp_path):
    def ko(name, depends):
        (tmp_path / f"{name}.ko").write_bytes(
            b"\x7fELF\0license=GPL\0depends=" + depends.encode() + b"\0name=" + name.encode() + b"\0")
    ko("wireguard", "libchacha,ip6_udp_tunnel,udp_tunnel")
    ko("udp_tunnel", "")
    ko("ip6_udp_tunnel", "")
    ko("libchacha", "")
    ko("veth", "")
    order = [p.stem for p in bench.module_order(tmp_path, ["veth", "wireguard", "udp-tunnel"])]
    assert order == ["veth", "libchacha", "ip6_udp_tunnel", "udp_tunnel", "wireguard"]


def status_line(ifname, up=True, errors=()):
    reply = {"hostname": "(none)", "errors": list(errors),
             "interfaces": {ifname: {"up": up, "errors": [], "peers": []}}}
    return f"@@STATUS {ifname} {json.dumps(reply)}"


def test_calls_times_in_ms_per_kind_and_a_good_answer():
    console = "\r\n".join([
        "@@SOCKETS /var/run/wireguard/w2a.sock /var/run/wireguard/w2b.sock",
        "@@CALL sh 10100", "@@CALL pass 58400", "@@CALL status 652600",
        "[   12.3] random: crng init done",
        "@@CALL sh 5700", "@@CALL pass 50600", "@@CALL status 529900",
        status_line("w2a"), "@@DONE", ""])
    times, problems = bench.parse_calls(console)
    assert times == {"sh": [10.1, 5.7], "pass": [58.4, 50.6], "status": [652.6, 529.9]}
    assert problems == []


def test_calls_status_answer_must_name_the_interface_up_without_errors():
    calls = "@@CALL status 1000\r\n"
    assert bench.parse_calls(calls)[1] == ["status: no answer"]
    for bad in (status_line("w2a", up=False), status_line("w2a", errors=["network: bad"]),
                status_line("w2a").replace('"w2a": {', '"w2b": {'),
                '@@STATUS w2a {"code": "internal"}', "@@STATUS w2a Traceback"):
        problems = bench.parse_calls(calls + bad + "\r\n")[1]
        assert len(problems) == 1 and problems[0].startswith("status: "), bad
    assert bench.parse_calls("@@DONE\r\n") == ({}, [])
