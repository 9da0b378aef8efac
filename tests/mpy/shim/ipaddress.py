"""`import ipaddress` in the tests, under MicroPython: wgpy's own subset."""

from wgpy.runtime.ipaddress import *  # noqa: F401,F403
