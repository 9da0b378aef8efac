"""Wire formats: sizes, round trips, strict parsing of remote bytes."""

from hypothesis import given, strategies as st

from wgpy.protocol import messages
from wgpy.protocol.messages import MessageType


def _initiation():
    return messages.Initiation(0x01020304, b"e" * 32, b"s" * 48, b"t" * 28, b"1" * 16, b"2" * 16)


def test_sizes():
    assert (messages.INITIATION_SIZE, messages.RESPONSE_SIZE, messages.COOKIE_REPLY_SIZE,
            messages.TRANSPORT_MIN_SIZE) == (148, 92, 64, 32)


def test_initiation_layout_and_round_trip():
    data = _initiation().pack()
    assert data[:8] == b"\x01\x00\x00\x00\x04\x03\x02\x01"
    assert data[8:40] == b"e" * 32 and data[-32:] == b"1" * 16 + b"2" * 16
    assert messages.parse(data) == _initiation()


def test_response_and_cookie_reply_round_trip():
    r = messages.Response(5, 6, b"e" * 32, b"n" * 16, b"a" * 16, b"b" * 16)
    c = messages.CookieReply(7, b"x" * 24, b"c" * 32)
    assert messages.parse(r.pack()) == r
    assert messages.parse(c.pack()) == c
    assert r.pack()[:12] == b"\x02\0\0\0\x05\0\0\0\x06\0\0\0"


def test_transport_round_trip():
    t = messages.Transport(9, 2**64 - 1, b"z" * 16)
    data = t.pack()
    assert data[:16] == b"\x04\0\0\0\x09\0\0\0" + b"\xff" * 8
    assert messages.parse(data) == t


def test_wrong_sizes_and_types_are_none():
    data = _initiation().pack()
    assert messages.parse(data[:-1]) is None
    assert messages.parse(data + b"\0") is None
    assert messages.parse(b"\x04" + bytes(30)) is None          # under 32 bytes
    assert messages.parse(b"\x05" + bytes(40)) is None
    assert messages.parse(b"\x01\x00\x00\x01" + data[4:]) is None   # reserved bytes set
    assert messages.message_type(b"\x03" + bytes(63)) is MessageType.COOKIE_REPLY


@given(st.binary(max_size=300))
def test_parse_never_raises(data):
    result = messages.parse(data)
    if result is not None:
        assert result.pack() == data
