"""Fixtures for the router tests: the namespace `lab`, a UCI config writer, and a skip of
the netns tests where they cannot run."""

import os
from contextlib import closing

import pytest

from routerlab import Lab
from support.netns import skip_unrunnable

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    skip_unrunnable(items, HERE)


@pytest.fixture
def lab(tmp_path):
    (tmp_path / "config").mkdir()
    with closing(Lab(tmp_path)) as lab:
        yield lab
