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
