"""One rule set: the page's inline checks (src/wgpy/webui/validate.js) carry the server's limits and
host-name rule, and the schema and the validator agree on the values they share."""

import json
import pathlib
import re

import pytest

from wgpy.uci import schema, validate

VALIDATE_JS = pathlib.Path(__file__).resolve().parents[2] / "src" / "wgpy" / "webui" / "validate.js"


def _js():
    return VALIDATE_JS.read_text()


def test_page_limits_are_the_schemas_web_limits():
    literal = re.search(r"var LIMITS = (\{.*?\});", _js()).group(1)
    assert json.loads(literal) == {k: list(v) for k, v in schema.WEB_LIMITS.items()}


def test_page_host_label_is_the_validators():
    label = re.compile(re.search(r"var LABEL = /\^(.*?)\$/;", _js()).group(1))
    samples = ["", "-", "a", "Z9", "9a", "a-b", "a--b", "-a", "a-", "a_b", "a b", "\u00e9",
               "a" * 63, "a" * 64, "b" + "-" * 61 + "c", "b" + "-" * 62 + "c", "a\n"]
    for sample in samples:
        assert bool(label.fullmatch(sample)) == validate._is_label(sample), sample


def test_web_limits_are_within_what_the_router_accepts():
    assert set(schema.WEB_LIMITS) == set(schema.RANGES)
    for name, (low, high) in schema.WEB_LIMITS.items():
        assert schema.RANGES[name][0] <= low <= high <= schema.RANGES[name][1]


@pytest.mark.parametrize("name, ok", [
    ("vpn.example.net", True), ("vpn.example.net.", True), ("a" * 63 + ".b", True),
    ("a" * 64 + ".b", False), ("-a.b", False), ("a-.b", False), ("a_b.c", False),
    ("1.2.3.4", False), ("a..b", False), ("", False), (".".join(["a" * 60] * 5), False),
    ("évil.net", False), ("a b", False), ("x\x00", False),
])
def test_hostnames_by_rfc_1123(name, ok):
    assert validate.is_hostname(name) == ok


@pytest.mark.parametrize("rule, value", [
    (validate.address, "fe80::1%eth0"), (validate.network, "fd99::%\x00/128"),
    (validate.interface_address, "fd77::1%\x00/64"), (validate.host, "[fe80::1%eth0]"),
    (validate.text, "a\x85b"), (validate.text, "\udc80"), (validate.text, "a\x7fb"),
])
def test_zones_and_control_characters_are_refused(rule, value):
    with pytest.raises(validate.FieldError):
        rule("f", value)


def test_the_schema_refuses_what_the_validator_refuses():
    from wgpy.uci.syntax import parse
    text = ("config interface 'wg0'\n\toption proto 'wgpy'\n\tlist addresses 'fd77::1%x/64'\n"
            "config wireguard_wg0\n\toption public_key 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4m"
            "Zqp8Dg='\n\toption endpoint_host 'fe80::1%eth0'\n")
    conf = schema.interfaces(parse(text, "network"), "network")["wg0"]
    assert [e.option for e in conf.errors] == ["addresses"]
    assert [e.option for e in conf.peer_errors] == ["endpoint_host"]
