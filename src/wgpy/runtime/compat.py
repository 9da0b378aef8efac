"""The standard-library pieces wgpy's shared code needs that MicroPython lacks
(ipaddress, compare_digest, lru_cache, Counter, deque, struct.Struct), and Record,
which takes the place of @dataclass on both runtimes.

On CPython each name is the standard library's own where one exists; on
MicroPython it is the small equivalent below. Only what the shared code uses is
here, with the same behaviour for those uses.
"""

import socket
import struct
from collections import OrderedDict

from wgpy.runtime import MICROPYTHON


class Record:
    """A plain data class (the role of @dataclass, which MicroPython cannot have: it
    keeps no annotations). FIELDS names the attributes in order; __init__ takes them
    by position or name, and those missing take DEFAULTS, or a new FACTORIES[name]()
    (a fresh list or dict each, as field(default_factory=...)). Equal when type and values
    are; the repr lists the values."""

    FIELDS = ()
    DEFAULTS = {}
    FACTORIES = {}

    def __init__(self, *args, **kwargs):
        if len(args) > len(self.FIELDS):
            raise TypeError(f"{type(self).__name__} takes at most {len(self.FIELDS)} values")
        for name, value in zip(self.FIELDS, args):
            setattr(self, name, value)
        for name in self.FIELDS[len(args):]:
            if name in kwargs:
                setattr(self, name, kwargs.pop(name))
            elif name in self.DEFAULTS:
                setattr(self, name, self.DEFAULTS[name])
            elif name in self.FACTORIES:
                setattr(self, name, self.FACTORIES[name]())
            else:
                raise TypeError(f"{type(self).__name__} needs {name}")
        if kwargs:
            raise TypeError(f"{type(self).__name__} has no field {sorted(kwargs)[0]}")

    def values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other):
        return type(self) is type(other) and self.values() == other.values()

    def __hash__(self):
        return hash((type(self).__name__,) + self.values())

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__name__}({fields})"


def unique(items) -> list:
    """items without repeats, in first-seen order: `dict.fromkeys` keeps no order on
    MicroPython. For the short lists shown to users (quadratic)."""
    out = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def packed_ip(text: str) -> bytes:
    """The 4 or 16 bytes of an IPv4 or IPv6 address (ipaddress.ip_address(text).packed);
    ValueError if text is neither."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(family, text)
        except (OSError, ValueError):
            pass
    raise ValueError(f"not an IP address: {text!r}")


if MICROPYTHON:
    from wgpy.runtime import ipaddress  # noqa: F401

    def compare_digest(a: bytes, b: bytes) -> bool:
        """Equality that reads every byte, whatever the first difference."""
        if len(a) != len(b):
            return False
        diff = 0
        for x, y in zip(a, b):
            diff |= x ^ y
        return diff == 0

    def lru_cache(maxsize: int):
        """Memoise a one-argument function, keeping at most maxsize results (the
        oldest goes first)."""
        def decorate(fn):
            cache = OrderedDict()

            def cached(arg):
                try:
                    return cache[arg]
                except KeyError:
                    pass
                if len(cache) >= maxsize:
                    del cache[next(iter(cache))]
                value = cache[arg] = fn(arg)
                return value
            return cached
        return decorate

    class Counter:
        """collections.Counter as a tally: a missing key reads 0 (a dict subclass cannot
        do that on MicroPython, which ignores __missing__)."""

        def __init__(self):
            self._counts = {}

        def __getitem__(self, key):
            return self._counts.get(key, 0)

        def __setitem__(self, key, value):
            self._counts[key] = value

        def __len__(self):
            return len(self._counts)

        def __iter__(self):
            return iter(self._counts)

        def __eq__(self, other):
            return dict(self.items()) == (dict(other.items()) if isinstance(other, Counter) else other)

        def get(self, key, default=None):
            return self._counts.get(key, default)

        def keys(self):
            return self._counts.keys()

        def values(self):
            return self._counts.values()

        def items(self):
            return self._counts.items()

    class deque:
        """collections.deque's queue methods, bounded or not (MicroPython's own deque
        needs a bound and has neither clear() nor maxlen). Full: the oldest drops."""

        def __init__(self, iterable=(), maxlen=None):
            self.maxlen = maxlen
            self._items = []
            for item in iterable:
                self.append(item)

        def append(self, item) -> None:
            if self.maxlen is not None and len(self._items) >= self.maxlen:
                self._items.pop(0)
            self._items.append(item)

        def popleft(self):
            return self._items.pop(0)

        def clear(self) -> None:
            self._items.clear()

        def __getitem__(self, i):
            return self._items[i]

        def __len__(self):
            return len(self._items)

        def __iter__(self):
            return iter(self._items)

    class Struct:
        """struct.Struct's methods over the module functions MicroPython has."""

        def __init__(self, fmt: str):
            self.format = fmt
            self.size = struct.calcsize(fmt)

        def pack(self, *values) -> bytes:
            return struct.pack(self.format, *values)

        def pack_into(self, buf, offset: int, *values) -> None:
            struct.pack_into(self.format, buf, offset, *values)

        def unpack(self, data) -> tuple:
            if len(data) != self.size:
                raise ValueError(f"unpack needs {self.size} bytes")
            return struct.unpack(self.format, data)

        def unpack_from(self, data, offset: int = 0) -> tuple:
            return struct.unpack_from(self.format, data, offset)
else:
    import ipaddress  # noqa: F401

    # Not hmac.compare_digest: importing hmac loads OpenSSL (hashlib), about 4 MB of RSS.
    from _operator import _compare_digest as compare_digest  # noqa: F401
    from collections import Counter, deque  # noqa: F401
    from functools import lru_cache  # noqa: F401

    Struct = struct.Struct
