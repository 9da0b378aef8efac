"""Run wgpy's pytest test files under MicroPython: `micropython runner.py kat/test_aead.py ...`
(paths under tests/). The same files pytest runs on CPython, through the pytest subset
in shim/: parametrized cases expand, conftest fixtures resolve, Hypothesis properties
and tests needing what only CPython has are skipped with the reason. Prints each
failure and a last line "N passed, N failed, N skipped"; exits 1 on any failure.
"""

import sys

HERE = __file__.rpartition("/")[0] or "."
TESTS = HERE.rpartition("/")[0] or "."
sys.path.insert(0, HERE + "/shim")

import hypothesis  # noqa: E402  (the shim: after the path change above)
import pytest  # noqa: E402

# Tests that compare with, or set up through, what only CPython has: skipped by name.
CPYTHON_ONLY = {
    "kat/test_blake2s.py::test_output_and_key_lengths_vs_hashlib": "compares with CPython's hashlib.blake2s",
    "kat/test_blake2s.py::test_mac_is_keyed_blake2s_128": "compares with CPython's hashlib.blake2s",
    "kat/test_hmac_kdf.py::test_hmac_blake2s": "compares with CPython's hmac + hashlib.blake2s",
    "kat/test_hmac_kdf.py::test_kdf": "compares with CPython's hmac + hashlib.blake2s",
    "protocol/test_cookie.py::test_mac1_matches_hashlib": "compares with CPython's hashlib.blake2s",
    "protocol/test_noise.py::test_wireguard_initial_state_matches_paper":
        "compares with CPython's hashlib.blake2s",
}

# pytest's own fixtures: a test taking one is skipped (MicroPython has no pytest).
PYTEST_FIXTURES = ("tmp_path", "tmp_path_factory", "capsys", "monkeypatch", "request", "caplog")


def signatures(path: str) -> dict:
    """test/fixture function name -> its argument names without defaults, read from the
    source (MicroPython functions do not expose their parameters)."""
    with open(path) as f:
        text = f.read()
    found, start = {}, 0
    while True:
        start = text.find("def ", start)
        if start < 0:
            return found
        open_at = text.find("(", start)
        name = text[start + 4:open_at].strip()
        depth, i = 0, open_at
        while True:
            c = text[i]
            depth += c in "([{"
            depth -= c in ")]}"
            if depth == 0:
                break
            i += 1
        args = []
        for part in _split_top(text[open_at + 1:i]):
            part = part.strip()
            if part and "=" not in part and not part.startswith("*"):
                args.append(part.split(":")[0].strip())
        found[name] = args
        start = i


def _split_top(text: str) -> list:
    """Split on commas outside brackets."""
    parts, depth, current = [], 0, ""
    for c in text:
        depth += c in "([{"
        depth -= c in ")]}"
        if c == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    return parts + [current]


def cases(fn, names):
    """(id, keyword arguments) for each parametrized case of fn, in pytest's order."""
    result = [("", {})]
    for argnames, values, ids in pytest.PARAMETRIZE.get(fn, ()):
        expanded = []
        for n, value in enumerate(values):
            if isinstance(value, pytest.param):
                label, value = value.id, value.values
            else:
                label = ids[n] if ids else None
                value = (value,) if len(argnames) == 1 else tuple(value)
            label = label if label is not None else "-".join(repr(v)[:20] for v in value)
            expanded.append((label, dict(zip(argnames, value))))
        result = [(f"{b}-{a}" if a else b, dict(kb, **ka)) for a, ka in result for b, kb in expanded]
    return result


class Totals:
    def __init__(self):
        self.passed = self.failed = 0
        self.skipped = {}

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


def fixture_value(name, sigs, cache):
    if name not in cache:
        fn = pytest.FIXTURES[name]
        cache[name] = fn(**{a: fixture_value(a, sigs, cache) for a in sigs.get(fn.__name__, ())})
    return cache[name]


def run_file(rel: str, totals: Totals) -> None:
    directory, _, filename = rel.rpartition("/")
    sys.path.insert(0, f"{TESTS}/{directory}")      # for helpers the tests import by name
    sigs = {}
    try:
        conftest = f"{TESTS}/{directory}/conftest.py"
        try:
            open(conftest).close()
            __import__(directory + ".conftest")
            sigs.update(signatures(conftest))
        except OSError:
            pass
        module_name = f"{directory}.{filename[:-3]}".replace("/", ".")
        __import__(module_name)
        module = sys.modules[module_name]
        sigs.update(signatures(f"{TESTS}/{rel}"))
        for name in sorted(dir(module)):
            fn = getattr(module, name)
            if not name.startswith("test_") or not callable(fn):
                continue
            run_test(rel, name, fn, sigs, totals)
    finally:
        sys.path.pop(0)


def run_test(rel, name, fn, sigs, totals) -> None:
    test_id = f"{rel}::{name}"
    if test_id in CPYTHON_ONLY:
        totals.skip(CPYTHON_ONLY[test_id], len(cases(fn, sigs[name])))
        return
    if fn in hypothesis.GIVEN:
        totals.skip("Hypothesis property (CPython only)")
        return
    for label, kwargs in cases(fn, sigs.get(name, ())):
        needs = [a for a in sigs.get(name, ()) if a not in kwargs]
        missing = [a for a in needs if a in PYTEST_FIXTURES or a not in pytest.FIXTURES]
        if missing:
            totals.skip(f"needs pytest's {missing[0]}")
            continue
        try:
            cache = {}
            kwargs.update({a: fixture_value(a, sigs, cache) for a in needs})
            fn(**kwargs)
            totals.passed += 1
        except pytest.Skipped as e:
            totals.skip(str(e) or "pytest.skip")
        except Exception as e:  # noqa: BLE001 - every failure is reported, then the next test runs
            totals.failed += 1
            print(f"FAIL {test_id}[{label}]")
            sys.print_exception(e)


def main(files) -> int:
    totals = Totals()
    for rel in files:
        try:
            run_file(rel, totals)
        except Exception as e:  # noqa: BLE001 - a file that does not import is one failure
            totals.failed += 1
            print(f"FAIL {rel} (import)")
            sys.print_exception(e)
    for reason, n in sorted(totals.skipped.items()):
        print(f"skipped {n}: {reason}")
    print(f"{totals.passed} passed, {totals.failed} failed, {sum(totals.skipped.values())} skipped")
    return 1 if totals.failed else 0


sys.exit(main(sys.argv[1:]))
