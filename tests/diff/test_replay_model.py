"""The C replay window against a naive model (a set of seen counters and the maximum):
fresh iff below REJECT_AFTER_MESSAGES, not seen, and newer than max - WINDOW."""

from hypothesis import given
from hypothesis import strategies as st

from wgpy import crypto

W = 8128
R = 2**64 - 2**13 - 1


class Naive:
    def __init__(self):
        self.seen, self.top = set(), 0

    def check(self, c):
        if c >= R or c in self.seen or (c <= self.top and self.top - c > W):
            return False
        self.seen.add(c)
        self.top = max(self.top, c)
        return True


edges = [64, 8127, 8128, 8129, 127 * 64, 8192, 8193, 2 * 8192, 3 * 8192 + 1]
steps = st.lists(
    st.one_of(
        st.integers(-200, 200),
        st.integers(-9000, 9000),
        st.integers(-70000, 70000),
        st.sampled_from(edges + [-e for e in edges]),
    ),
    max_size=300,
)


@given(st.sampled_from([0, 1, 63, 64, 8127, 8128, 8192, 10**6, R - 20000]), steps)
def test_window_matches_naive_model(start, moves):
    real, model = crypto.ReplayWindow(), Naive()
    c = start
    for m in moves:
        c = min(max(c + m, 0), 2**64 - 1)
        assert real.check(c) == model.check(c), f"counter {c}"
