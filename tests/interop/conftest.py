"""Fixtures for the interop tests: the `lab` (see netlab.py for the topology) and a skip
of the netns tests on machines that cannot run them."""

import os

import pytest

from netlab import Lab, skip_reason

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    """Skip the netns tests where they cannot run rather than fail them."""
    reason = skip_reason()
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
