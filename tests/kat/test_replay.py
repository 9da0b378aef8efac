"""The replay window through wgpy.crypto.ReplayWindow: the numbered cases of the kernel's
selftest/counter.c (as ported in wireguard-go replay_test.go), written out here."""

import pytest

from wgpy import crypto

W = 8128  # WGC_REPLAY_WINDOW
LIM = W + 1
R = 18446744073709543423  # WGC_REJECT_AFTER_MESSAGES = 2^64 - 2^13 - 1

CASES = [  # (counter, fresh), in order, on one window
    (0, True),
    (1, True),
    (1, False),
    (9, True),
    (8, True),
    (7, True),
    (7, False),
    (LIM, True),
    (LIM - 1, True),
    (LIM - 1, False),
    (LIM - 2, True),
    (2, True),
    (2, False),
    (LIM + 16, True),
    (3, False),
    (LIM + 16, False),
    (LIM * 4, True),
    (LIM * 4 - (LIM - 1), True),
    (10, False),
    (LIM * 4 - LIM, False),
    (LIM * 4 - (LIM + 1), False),
    (LIM * 4 - (LIM - 2), True),
    (LIM * 4 + 1 - LIM, False),
    (0, False),
    (R, False),
    (R - 1, True),
    (R, False),
    (R - 1, False),
    (R - 2, True),
    (R + 1, False),
    (R + 2, False),
    (R - 2, False),
    (R - 3, True),
    (0, False),
]


@pytest.fixture(scope="module")
def results():
    w = crypto.ReplayWindow()
    return [w.check(c) for c, _ in CASES]


@pytest.mark.parametrize(
    "i", range(len(CASES)), ids=[f"case{i + 1}" for i in range(len(CASES))]
)
def test_counter_case(results, i):
    assert results[i] == CASES[i][1], f"case {i + 1}: counter {CASES[i][0]}"


RING = [  # ours: whole-ring (128 x 64) jumps reuse a block, which must have been cleared
    [
        (5, True),
        (5 + 8192, True),
        (5, False),
        (5 + 3 * 8192, True),
        (5 + 2 * 8192, False),
    ],
    [
        (5, True),
        (5 + 127 * 64, True),
        (5, False),
        (6, True),
        (4, False),
        (5 + 129 * 64, True),
        (6 + 64, False),
        (5 + 128 * 64, True),
    ],
]


@pytest.mark.parametrize("seq", RING, ids=["whole-ring-jumps", "127-block-jump"])
def test_ring_reuse(seq):
    w = crypto.ReplayWindow()
    assert [w.check(c) for c, _ in seq] == [f for _, f in seq]


def _bulk(seq, tail):
    w = crypto.ReplayWindow()
    assert all(w.check(i) for i in seq)
    return [w.check(c) for c in tail]


def test_bulk_1():
    assert _bulk(range(1, W + 1), [0, 0]) == [True, False]


def test_bulk_2():
    assert _bulk(range(2, W + 2), [1, 0]) == [True, False]


def test_bulk_3():
    assert _bulk(range(W + 1, 0, -1), []) == []


def test_bulk_4():
    assert _bulk(range(W + 2, 1, -1), [0]) == [False]


def test_bulk_5():
    assert _bulk(range(W, 0, -1), [W + 1, 0]) == [True, False]


def test_bulk_6():
    assert _bulk(range(W, 0, -1), [0, W + 1]) == [True, True]


@pytest.mark.parametrize("counter", [-1, 2**64, 2**64 - 1])
def test_out_of_range(counter):
    assert crypto.ReplayWindow().check(counter) is False
