"""The part of pytest that wgpy's unit tests use, for running them under MicroPython
(tests/mpy/runner.py collects and runs; this only records what the decorators say).
MicroPython functions take no attributes, so the marks live in registries keyed by
the test function."""

PARAMETRIZE = {}    # test function -> [(argument names, values)], outermost decorator last
FIXTURES = {}       # fixture name -> function


class Skipped(Exception):
    pass


def skip(reason: str = ""):
    raise Skipped(reason)


def importorskip(name: str):
    try:
        __import__(name)
    except ImportError as e:
        raise Skipped(f"cannot import {name}: {e}")
    import sys
    return sys.modules[name]


class param:
    def __init__(self, *values, id=None, marks=()):
        self.values, self.id, self.marks = values, id, marks


class _Mark:
    def parametrize(self, argnames, argvalues, ids=None):
        names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)

        def decorate(fn):
            PARAMETRIZE.setdefault(fn, []).append((names, list(argvalues), ids))
            return fn
        return decorate

    def __getattr__(self, name):
        # Other marks (slow, netns, ...) select tests under pytest; here they change nothing.
        def mark(*args, **kwargs):
            if len(args) == 1 and callable(args[0]) and not kwargs:
                return args[0]
            return lambda fn: fn
        return mark


mark = _Mark()


def fixture(*args, **kwargs):
    if len(args) == 1 and callable(args[0]):
        FIXTURES[args[0].__name__] = args[0]
        return args[0]

    def decorate(fn):
        FIXTURES[fn.__name__] = fn
        return fn
    return decorate


class raises:
    """`with pytest.raises(E[, match=...]) as info:`, info.value being the exception."""

    def __init__(self, expected, match=None):
        self.expected, self.match, self.value = expected, match, None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            raise AssertionError(f"DID NOT RAISE {self.expected}")
        if not isinstance(value, self.expected):
            return False
        if self.match is not None:
            import re
            if re.search(self.match, str(value)) is None:
                raise AssertionError(f"{value!r} does not match {self.match!r}")
        self.value = value
        return True
