"""Fixtures for the router tests: the namespace `lab`, a UCI config writer, and a skip of
the netns tests where they cannot run."""

import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from routerlab import Lab  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Skip the netns tests where they cannot run rather than fail them."""
    missing = [t for t in ("ip", "wg", "wireguard-go", "ping") if not shutil.which(t)]
    reason = ("needs root" if os.geteuid() != 0 else
              f"missing {', '.join(missing)}" if missing else None)
    if reason:
        for item in items:
            if "netns" in item.keywords and str(item.path).startswith(HERE):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def lab(tmp_path, monkeypatch):
    # wgpy's run records of this test only: `wgpy reload --all` elsewhere (another test
    # running at the same time) would otherwise stop interfaces it finds recorded here.
    monkeypatch.setenv("WGPY_RUN_DIR", str(tmp_path / "run"))
    lab = Lab(tmp_path)
    (tmp_path / "config").mkdir()
    try:
        yield lab
    finally:
        lab.close()
