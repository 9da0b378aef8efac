"""An insertion-ordered mapping with hashed lookups: Device.peers (public key -> Peer,
in the order `wg show` lists them).

CPython: collections.OrderedDict. MicroPython's plain dicts keep no order, and its
OrderedDict keeps it by searching linearly: among 1,000 peers a lookup costs about 57 us
there against 0.2 us in a dict, and a handshake makes several. This one keeps a dict for
the lookups and a list for the order (removing a key, which is rare, is linear).
"""

from wgpy.runtime import MICROPYTHON

if MICROPYTHON:
    class OrderedDict:
        """The mapping methods the shared code calls; keys/values/items iterate in order."""

        def __init__(self):
            self._values = {}
            self._order = []

        def __getitem__(self, key):
            return self._values[key]

        def __setitem__(self, key, value):
            if key not in self._values:
                self._order.append(key)
            self._values[key] = value

        def __delitem__(self, key):
            del self._values[key]
            self._order.remove(key)

        def __contains__(self, key) -> bool:
            return key in self._values

        def __len__(self) -> int:
            return len(self._order)

        def __iter__(self):
            return iter(self._order)

        def get(self, key, default=None):
            return self._values.get(key, default)

        def pop(self, key, *default):
            if key in self._values:
                self._order.remove(key)
                return self._values.pop(key)
            if default:
                return default[0]
            raise KeyError(key)

        def keys(self):
            return iter(self._order)

        def values(self):
            values = self._values
            for key in self._order:
                yield values[key]

        def items(self):
            values = self._values
            for key in self._order:
                yield key, values[key]
else:
    from collections import OrderedDict  # noqa: F401
