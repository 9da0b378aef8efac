"""The shared locator of the real OpenWrt parts finds a working `uci` CLI and pyuci."""

import subprocess

from support import owrt

owrt.need()


def test_cli_and_binding_read_the_same_file(tmp_path):
    (tmp_path / "network").write_text("config interface 'wg0'\n\toption proto 'wgpy'\n")
    out = subprocess.run([owrt.binary("uci"), "-c", str(tmp_path), "get", "network.wg0.proto"],
                         capture_output=True, text=True, env=owrt.env(), check=True).stdout
    assert out == "wgpy\n"
    uci = owrt.pyuci()
    assert uci.Uci(confdir=str(tmp_path), savedir=str(tmp_path / "delta")).get(
        "network", "wg0", "proto") == "wgpy"
