"""Session keypairs and the previous/current/next rotation (kernel noise.c, wireguard-go keypair.go).

The initiator installs a new keypair as current at once; the responder parks
it in next until the first authenticated transport packet under it arrives
(key confirmation), then rotates. Dropping a keypair frees its index.
Python cannot wipe immutable bytes; we drop every reference instead.
"""

from wgpy import crypto

from .constants import REJECT_AFTER_MESSAGES


class Keypair:
    """One direction pair of transport keys with its counters."""

    __slots__ = ("send_key", "recv_key", "send_counter", "replay", "created",
                 "is_initiator", "local_index", "remote_index")

    def __init__(self, send_key, recv_key, is_initiator, local_index, remote_index, now):
        self.send_key, self.recv_key = send_key, recv_key
        self.send_counter = 0
        self.replay = crypto.ReplayWindow()
        self.created = now
        self.is_initiator = is_initiator
        self.local_index, self.remote_index = local_index, remote_index

    def wipe(self) -> None:
        """Drop the keys; later seals fail loudly instead of using stale keys."""
        self.send_key = self.recv_key = None
        self.send_counter = REJECT_AFTER_MESSAGES


class Keypairs:
    """A peer's three keypair slots."""

    __slots__ = ("_index", "previous", "current", "next", "on_change")

    def __init__(self, index_table):
        self._index = index_table
        self.previous = self.current = self.next = None
        self.on_change = None       # called after the slots change (the datapath mirrors them)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _delete(self, keypair) -> None:
        if keypair is not None:
            self._index.delete(keypair.local_index)
            keypair.wipe()

    def install(self, keypair) -> None:
        """Place a keypair fresh from begin_session (BeginSymmetricSession's rotation)."""
        if keypair.is_initiator:
            if self.next is not None:
                # An unconfirmed next is newer than current: keep it as previous.
                self._delete(self.previous)
                self._delete(self.current)
                self.previous, self.next = self.next, None
            else:
                self._delete(self.previous)
                self.previous = self.current
            self.current = keypair
        else:
            self._delete(self.next)
            self._delete(self.previous)
            self.next, self.previous = keypair, None
        self._changed()

    def received_with(self, keypair) -> bool:
        """Call after a transport packet authenticated under keypair; True if it confirmed next."""
        if keypair is not self.next or keypair is None:
            return False
        self._delete(self.previous)
        self.previous, self.current, self.next = self.current, self.next, None
        self._changed()
        return True

    def expire_current(self) -> None:
        """Make current and next unusable for sending (private key changed)."""
        for keypair in (self.current, self.next):
            if keypair is not None:
                keypair.send_counter = REJECT_AFTER_MESSAGES
        self._changed()

    def clear(self) -> None:
        """Delete all three slots."""
        for keypair in (self.previous, self.current, self.next):
            self._delete(keypair)
        self.previous = self.current = self.next = None
        self._changed()
