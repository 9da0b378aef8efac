"""Receiver-index table (kernel peerlookup.c index hashtable, wireguard-go indextable.go).

Maps our random 32-bit local indices to a peer and either its in-progress
handshake or one of its keypairs. Indices come from the injected RNG and
are never reused while live; 0 is never handed out so it can mean "none".
"""

from wgpy.runtime.compat import Record


class IndexEntry(Record):
    FIELDS = ("peer", "handshake", "keypair")
    DEFAULTS = {"handshake": None, "keypair": None}


class IndexTable:
    """Live local indices -> IndexEntry."""

    def __init__(self, rng):
        self._rng = rng
        self._entries = {}

    def __len__(self) -> int:
        return len(self._entries)

    def new_index(self, peer, handshake) -> int:
        """A fresh random index bound to peer's handshake."""
        while True:
            index = int.from_bytes(self._rng(4), "little")
            if index and index not in self._entries:
                self._entries[index] = IndexEntry(peer, handshake=handshake)
                return index

    def claim(self, index: int, peer, keypair) -> bool:
        """Bind index, drawn elsewhere (the C responder), to keypair; False if it is taken."""
        if not index or index in self._entries:
            return False
        self._entries[index] = IndexEntry(peer, keypair=keypair)
        return True

    def swap_for_keypair(self, index: int, keypair) -> None:
        """Rebind a handshake's index to the keypair derived from it."""
        entry = self._entries.get(index)
        if entry is not None:
            entry.handshake, entry.keypair = None, keypair

    def lookup(self, index: int):
        """The IndexEntry for index, or None."""
        return self._entries.get(index)

    def delete(self, index: int) -> None:
        """Free index (unknown or 0 is a no-op)."""
        self._entries.pop(index, None)
