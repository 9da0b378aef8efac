"""killswitch.ruleset (pure) and the option in the schema; the rule set's effect is proven
in namespaces by test_supervision.py and test_netifd.py."""

import shutil
import subprocess

import pytest

from wgpy.router import killswitch
from wgpy.uci import schema, syntax


def test_ruleset_rejects_forwarding_out_of_the_wan_except_from_wan_or_tunnel():
    text = killswitch.ruleset("wg0", ["eth1", "pppoe-wan"])
    assert "table inet wgpy_ks_wg0 {}\ndelete table inet wgpy_ks_wg0\n" in text  # atomic
    assert "type filter hook forward priority filter - 1; policy accept;" in text
    assert ('oifname { "eth1", "pppoe-wan" } iifname != { "eth1", "pppoe-wan", "wg0" } '
            'counter reject with icmpx admin-prohibited') in text


def test_ruleset_without_an_uplink_allows_only_the_tunnel():
    assert 'iifname != "wg0" oifname != "wg0" counter reject' in killswitch.ruleset("wg0", [])


def test_table_names_are_valid_nft_identifiers():
    assert killswitch.table_name("wg-vpn.1") == "wgpy_ks_wg_vpn_1"


@pytest.mark.skipif(not shutil.which("nft"), reason="nft not installed")
def test_nft_accepts_the_ruleset():
    for devices in (["eth1"], []):
        result = subprocess.run(["nft", "-c", "-f", "-"], input=killswitch.ruleset(
            "wg0", devices), capture_output=True, text=True)
        assert result.returncode == 0 or "Operation not permitted" in result.stderr, \
            result.stderr


def test_killswitch_option_is_read_and_checked():
    def conf(value):
        text = f"config interface 'wg0'\n\toption proto 'wgpy'\n\toption killswitch '{value}'\n"
        return schema.interfaces(syntax.parse(text, "network"), "network")["wg0"]
    assert conf("1").killswitch and not conf("0").killswitch
    assert [e.option for e in conf("maybe").errors] == ["killswitch"]
