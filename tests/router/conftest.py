"""Fixtures for the router tests: the namespace `lab`, a UCI config writer, and a skip of
the netns tests where they cannot run."""

import os
from contextlib import closing

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


# The lab is imported where it is used: the unit tests here also run under MicroPython
# (tests/mpy), which has no namespaces to set up.
def pytest_collection_modifyitems(config, items):
    from support.netns import skip_unrunnable
    skip_unrunnable(items, HERE)


@pytest.fixture
def lab(tmp_path, monkeypatch):
    # wgpy's run records of this test only: `wgpy reload --all` elsewhere (another test
    # running at the same time) would otherwise stop interfaces it finds recorded here.
    monkeypatch.setenv("WGPY_RUN_DIR", str(tmp_path / "run"))
    (tmp_path / "config").mkdir()
    from routerlab import Lab
    with closing(Lab(tmp_path)) as lab:
        yield lab
