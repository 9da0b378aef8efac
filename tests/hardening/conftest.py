"""Fixtures for the hardening tests: the interop pair (support/pair.py), module-wide:
wgpyd <-> wireguard-go with a preshared key; and the skip of the netns tests where they
cannot run (not root, tools missing)."""

import os

import pytest

from support.keys import genkey
from support.netns import skip_unrunnable
from support.pair import Lab, make_pair

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    skip_unrunnable(items, HERE)


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
