"""Loaders for tests/vectors: each case becomes one pytest.param with a readable id."""

import json
import pathlib

import pytest

VECTORS = pathlib.Path(__file__).parent.parent / "vectors"


def load(name):
    return json.loads((VECTORS / name).read_text())


def rfc(section):
    return [
        pytest.param(e, id=e["source"].replace("§", "sec").replace(" ", "_"))
        for e in load("rfc_vectors.json")[section]
    ]


def wycheproof(name):
    out = []
    for group in load(name)["testGroups"]:
        for t in group["tests"]:
            out.append(pytest.param(t, id=f"tc{t['tcId']}-{t['result']}"))
    return out
