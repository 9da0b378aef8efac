"""Helpers shared by the test directories, the bench and the demo: netns.py (the namespace
lab), procs.py (stop by PID, wait), keys.py (key pairs), pair.py (two peers, for interop and
hardening), owrt.py (the real OpenWrt parts).

`tests` is on the path through pytest's `pythonpath` (pyproject.toml); the demo and the bench,
which run outside pytest, get it from the Makefile (PYTHONPATH=tests)."""
