"""Shared test set-up: vector location and a deterministic Hypothesis profile."""

import os
import pathlib

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
