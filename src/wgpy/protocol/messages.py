"""The four WireGuard wire formats (kernel messages.h, wireguard-go noise-protocol.go).

Rule 1: parse() never raises on remote bytes; anything malformed gives None.
Rule 2: no cryptography here, only layout. Integers are little-endian; the
type is one byte followed by three zero bytes, read together as a u32 so
that non-zero reserved bytes make the type unknown (as wireguard-go does).
"""

from wgpy.runtime.compat import Record, Struct

from .constants import MAC_LEN, TAG_LEN


class MessageType:
    """The message type field's values."""
    INITIATION = 1
    RESPONSE = 2
    COOKIE_REPLY = 3
    TRANSPORT = 4

    ALL = (INITIATION, RESPONSE, COOKIE_REPLY, TRANSPORT)


_INITIATION = Struct("<II32s48s28s16s16s")
_RESPONSE = Struct("<III32s16s16s16s")
_COOKIE_REPLY = Struct("<II24s32s")
TRANSPORT_HEADER = Struct("<IIQ")

INITIATION_SIZE = _INITIATION.size          # 148
RESPONSE_SIZE = _RESPONSE.size              # 92
COOKIE_REPLY_SIZE = _COOKIE_REPLY.size      # 64
TRANSPORT_HEADER_SIZE = TRANSPORT_HEADER.size   # 16
TRANSPORT_MIN_SIZE = TRANSPORT_HEADER_SIZE + TAG_LEN   # 32, also a keepalive's size
MIN_MESSAGE_SIZE = TRANSPORT_MIN_SIZE
MACS_SIZE = 2 * MAC_LEN
ZERO_MAC = bytes(MAC_LEN)


class Initiation(Record):
    FIELDS = ("sender", "ephemeral", "encrypted_static", "encrypted_timestamp", "mac1", "mac2")
    DEFAULTS = {"mac1": ZERO_MAC, "mac2": ZERO_MAC}

    def pack(self) -> bytes:
        """The 148-byte datagram."""
        return _INITIATION.pack(MessageType.INITIATION, self.sender, self.ephemeral,
                                self.encrypted_static, self.encrypted_timestamp,
                                self.mac1, self.mac2)


class Response(Record):
    FIELDS = ("sender", "receiver", "ephemeral", "encrypted_nothing", "mac1", "mac2")
    DEFAULTS = {"mac1": ZERO_MAC, "mac2": ZERO_MAC}

    def pack(self) -> bytes:
        """The 92-byte datagram."""
        return _RESPONSE.pack(MessageType.RESPONSE, self.sender, self.receiver,
                              self.ephemeral, self.encrypted_nothing, self.mac1, self.mac2)


class CookieReply(Record):
    FIELDS = ("receiver", "nonce", "encrypted_cookie")

    def pack(self) -> bytes:
        """The 64-byte datagram."""
        return _COOKIE_REPLY.pack(MessageType.COOKIE_REPLY, self.receiver, self.nonce,
                                  self.encrypted_cookie)


class Transport(Record):
    FIELDS = ("receiver", "counter", "encrypted")     # encrypted: padded plaintext || 16-byte tag

    def pack(self) -> bytes:
        """Header followed by the ciphertext."""
        return pack_transport(self.receiver, self.counter, self.encrypted)


def pack_transport(receiver: int, counter: int, encrypted: bytes) -> bytes:
    """A transport datagram without building a Transport (the hot path)."""
    return TRANSPORT_HEADER.pack(MessageType.TRANSPORT, receiver, counter) + encrypted


def message_type(data: bytes):
    """The MessageType value of a datagram, or None if too short or unknown."""
    if len(data) < MIN_MESSAGE_SIZE:
        return None
    value = int.from_bytes(data[:4], "little")
    return value if value in MessageType.ALL else None


def _parse_initiation(data: bytes):
    _, *fields = _INITIATION.unpack(data)
    return Initiation(*fields)


def _parse_response(data: bytes):
    _, *fields = _RESPONSE.unpack(data)
    return Response(*fields)


def _parse_cookie_reply(data: bytes):
    _, *fields = _COOKIE_REPLY.unpack(data)
    return CookieReply(*fields)


def _parse_transport(data: bytes):
    _, receiver, counter = TRANSPORT_HEADER.unpack_from(data)
    return Transport(receiver, counter, bytes(data[TRANSPORT_HEADER_SIZE:]))


_PARSERS = {
    MessageType.INITIATION: (INITIATION_SIZE, _parse_initiation),
    MessageType.RESPONSE: (RESPONSE_SIZE, _parse_response),
    MessageType.COOKIE_REPLY: (COOKIE_REPLY_SIZE, _parse_cookie_reply),
}


def parse(data: bytes):
    """One of Initiation/Response/CookieReply/Transport, or None if malformed.

    Handshake messages must have their exact size; transport at least 32 bytes.
    """
    kind = message_type(data)
    if kind is None:
        return None
    if kind == MessageType.TRANSPORT:
        return _parse_transport(data)
    size, parser = _PARSERS[kind]
    if len(data) != size:
        return None
    return parser(bytes(data))
