"""Fixtures for the hardening tests: the interop lab (tests/interop/netlab.py) reused by
import, a module-wide wgpyd <-> wireguard-go pair with a preshared key, and the skip of the
netns tests where they cannot run (not root, tools missing)."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
sys.path.insert(0, os.path.join(HERE, "..", "protocol"))

from netlab import Lab, genkey, make_pair, skip_reason  # noqa: E402

TOOLS = os.path.join(HERE, "tools")


def pytest_collection_modifyitems(config, items):
    reason = skip_reason()
    if reason:
        for item in items:
            if "netns" in item.keywords and str(item.path).startswith(HERE):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(lab, a, b, psk): wgpyd (C data path, LOG_LEVEL=verbose) in ns A, wireguard-go in ns B,
    a preshared key, both up and configured; torn down after the module."""
    lab = Lab(tmp_path_factory.mktemp("hardening"))
    try:
        psk = genkey()[0]
        a, b = make_pair(lab, "wireguard-go", 4, a={"psk": psk}, b={"psk": psk})
        yield lab, a, b, psk
    finally:
        lab.close()
