"""Fixtures for the interop tests: the `lab` (see netlab.py for the topology) and a skip
of the netns tests on machines that cannot run them."""

import os
import shutil
import sys

import pytest

from netlab import WGPYD, Lab

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    """Skip the netns tests where they cannot run rather than fail them."""
    missing = [tool for tool in ("ip", "wg", "wireguard-go", "ping") if not shutil.which(tool)]
    reason = ("needs root" if os.geteuid() != 0 else
              f"missing {', '.join(missing)}" if missing else
              f"no wgpyd next to {sys.executable}" if not os.path.exists(WGPYD) else None)
    if reason:
        for item in items:
            if "netns" in item.keywords and str(item.path).startswith(HERE):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.close()
