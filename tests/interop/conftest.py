"""Fixtures for the interop tests: the `lab` (see support/pair.py for the topology), once
with wgpyd on CPython and once on MicroPython (the same source files, the launcher
src/wgpy/daemon/wgpyd-micropython), and a skip of the netns tests on machines that cannot
run them."""

import os
from contextlib import closing

import pytest

from mpy import mpyrun
from support.netns import WGPYD, skip_unrunnable
from support.pair import Lab

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    skip_unrunnable(items, HERE)


@pytest.fixture(params=["cpython", "micropython"])
def runtime(request, monkeypatch):
    """The runtime wgpyd runs on -> the program that starts it. MicroPython's settings go
    into the environment, so that every daemon of the test (also one wg-quick starts)
    sees them."""
    if request.param == "cpython":
        return WGPYD
    for name, value in mpyrun.daemon_env().items():
        monkeypatch.setenv(name, value)
    return str(mpyrun.WGPYD)


@pytest.fixture
def lab(tmp_path, runtime):
    with closing(Lab(tmp_path, runtime)) as lab:
        yield lab
