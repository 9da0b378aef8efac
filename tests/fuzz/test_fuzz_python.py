"""Hypothesis fuzzing of the Python targets (tests/fuzz/targets.py), which runs where atheris
is missing too: random bytes and mutated valid messages. Invariants: a datagram gives a drop
or a valid event; UAPI text, fed whole or one byte at a time, gives errno=N with state
unchanged; a UCI file gives a located error and is not rewritten."""

from hypothesis import given, settings, strategies as st

import targets


def mutated(seeds):
    """A seed with a few byte edits: flips, truncation, insertion."""
    @st.composite
    def build(draw):
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(0, 4))):
            op = draw(st.integers(0, 2))
            if op == 0 and data:
                i = draw(st.integers(0, len(data) - 1))
                data[i] ^= 1 << draw(st.integers(0, 7))
            elif op == 1 and data:
                del data[draw(st.integers(0, len(data) - 1)):]
            else:
                data[draw(st.integers(0, len(data))):0] = draw(st.binary(max_size=8))
        return bytes(data)
    return build()


@given(st.one_of(st.binary(max_size=300), mutated(targets.seed_datagrams())))
def test_datagram(data):
    targets.fuzz_datagram(data)


@given(st.binary(max_size=200))
def test_messages_parse(data):
    targets.fuzz_messages_parse(data)


@settings(max_examples=60)
@given(st.one_of(st.binary(max_size=200), mutated(targets.seed_uapi())))
def test_uapi(data):
    targets.fuzz_uapi(data)


@settings(max_examples=60)
@given(st.one_of(st.binary(max_size=200), mutated(targets.seed_uci())))
def test_uci(data):
    targets.fuzz_uci(data)
