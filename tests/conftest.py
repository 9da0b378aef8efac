"""Shared test set-up: vector location and a deterministic Hypothesis profile."""

import os
import pathlib

import pytest
from hypothesis import HealthCheck, settings

VECTORS = pathlib.Path(__file__).parent / "vectors"

# Derandomized so CI and developers see the same examples; no deadline because
# the machine is shared and timing is not what these tests check.
settings.register_profile(
    "wgpy",
    derandomize=True,
    deadline=None,
    max_examples=int(os.environ.get("WGPY_HYPOTHESIS_EXAMPLES", "200")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("wgpy")


@pytest.fixture(scope="session", autouse=True)
def _private_state_dir(tmp_path_factory):
    """Daemons started by the tests keep their handshake-timestamp floors here, not in the
    machine's /var/lib/wgpy (the environment is inherited by every wgpyd they start)."""
    path = tmp_path_factory.mktemp("wgpy-state")
    old = os.environ.get("WGPY_STATE_DIR")
    os.environ["WGPY_STATE_DIR"] = str(path)
    yield
    if old is None:
        del os.environ["WGPY_STATE_DIR"]
    else:
        os.environ["WGPY_STATE_DIR"] = old
