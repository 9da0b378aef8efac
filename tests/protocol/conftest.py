"""Fixtures for the protocol core tests (helpers live in wgtestlib.py)."""

import pytest

from wgtestlib import SEED, FakeClock, Pair, make_rng


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def rng():
    print(f"seed={SEED:#x}")
    return make_rng(SEED)


@pytest.fixture
def pair():
    return Pair(SEED)
