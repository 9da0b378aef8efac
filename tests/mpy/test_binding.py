"""MicroPython's `ffi` cannot read wgcore.h, so wgpy/runtime/mpy_core.py writes its
functions' types and #defines down; here they are compared with what cffi read from
the header itself. And the portable pieces of wgpy/runtime behave as the standard
library they stand in for."""

import ipaddress
import re

import pytest
from hypothesis import given, strategies as st

from wgpy._native import ffi, lib
from wgpy.runtime import ipaddress as subset
from wgpy.runtime import mpy_core

from . import mpyrun

HEADER = (mpyrun.ROOT / "src" / "core" / "wgcore.h").read_text()
# ffi's type codes for the C types wgcore.h uses (every pointer is `p`).
CODES = {"void": "v", "size_t": "L", "uint64_t": "Q", "uint32_t": "I", "int": "i", "int32_t": "i",
         "uint8_t": "B", "uint16_t": "H"}


def code(ctype) -> str:
    return "p" if ctype.kind == "pointer" else CODES[ctype.cname]


def test_every_function_of_the_header_with_the_types_cffi_sees():
    declared = set(re.findall(r"\b(wgc_\w+)\s*\(", HEADER))
    assert set(mpy_core.FUNCTIONS) == declared
    for name, (result, args) in mpy_core.FUNCTIONS.items():
        t = ffi.typeof(getattr(lib, name))
        expected = "s" if t.result.cname == "char *" else code(t.result)
        assert (result, args) == (expected, "".join(code(a) for a in t.args)), name


def test_every_define_with_the_value_cffi_sees():
    defined = set(re.findall(r"#define\s+(WGC_\w+)\s", HEADER))
    assert set(mpy_core.CONSTANTS) == defined
    for name, value in mpy_core.CONSTANTS.items():
        assert value == getattr(lib, name), name


@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 32), st.integers(0, 2 ** 32 - 1))
def test_ipaddress_subset_matches_the_stdlib_v4(value, plen, other):
    _same_as_stdlib(ipaddress.IPv4Address(value), plen, ipaddress.IPv4Address(other))


@given(st.integers(0, 2 ** 128 - 1), st.integers(0, 128), st.integers(0, 2 ** 128 - 1))
def test_ipaddress_subset_matches_the_stdlib_v6(value, plen, other):
    _same_as_stdlib(ipaddress.IPv6Address(value), plen, ipaddress.IPv6Address(other))


def _same_as_stdlib(theirs, plen, probe):
    ours = subset.ip_address(str(theirs))
    assert (ours.version, ours.packed, int(ours), str(ours), ours.is_global) == (
        theirs.version, theirs.packed, int(theirs), str(theirs), theirs.is_global)
    text = f"{theirs}/{plen}"
    net, ref = subset.ip_network(text, strict=False), ipaddress.ip_network(text, strict=False)
    assert (net.version, net.prefixlen, int(net.network_address), str(net)) == (
        ref.version, ref.prefixlen, int(ref.network_address), str(ref))
    assert (subset.ip_address(str(probe)) in net) == (probe in ref)
    again = subset.ip_network(str(ref))
    assert net == again and hash(net) == hash(again)
    if theirs != ref.network_address:
        with pytest.raises(ValueError):
            subset.ip_network(text)


@pytest.mark.parametrize("text", [
    "0.1.2.3", "10.9.8.7", "100.64.0.1", "100.127.255.255", "100.128.0.0", "127.0.0.1",
    "169.254.1.1", "172.15.255.255", "172.16.0.1", "172.31.255.255", "172.32.0.0", "192.0.0.9",
    "192.0.0.170", "192.0.0.172", "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.20.0.1",
    "198.51.100.7", "203.0.113.9", "240.0.0.1", "255.255.255.255", "8.8.8.8", "1.1.1.1",
    "::1", "::", "::ffff:1.2.3.4", "100::1", "2001::1", "2001:1ff::1", "2001:200::1",
    "2001:2::1", "2001:db8::1", "2001:10::1", "fc00::1", "fd12::1", "fe80::1", "febf::1",
    "fec0::1", "2606:4700::1111", "2a00:1450::1", "::ffff:10.1.2.3", "::ffff:100.64.0.1"])
def test_ipaddress_subset_is_global_at_the_block_edges(text):
    assert subset.ip_address(text).is_global == ipaddress.ip_address(text).is_global, text


@pytest.mark.parametrize("text", ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "::g", "1.2.3.4/33", "::/129",
                                  "1.2.3.4/x", "1.2.3.4/-1"])
def test_ipaddress_subset_refuses_what_the_stdlib_refuses(text):
    with pytest.raises(ValueError):
        ipaddress.ip_network(text)
    with pytest.raises(ValueError):
        subset.ip_network(text)
