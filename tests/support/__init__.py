"""Helpers shared by the test directories (tests/ is on sys.path through tests/conftest.py)."""
