"""Fixtures for the interop tests: the `lab` (see support/pair.py for the topology) and a
skip of the netns tests on machines that cannot run them."""

import os
from contextlib import closing

import pytest

from support.netns import skip_unrunnable
from support.pair import Lab

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    skip_unrunnable(items, HERE)


@pytest.fixture
def lab(tmp_path):
    with closing(Lab(tmp_path)) as lab:
        yield lab
