"""Fixtures of the datapath tests that drive one started Side (dpside.py) from a UDP
socket on loopback: test_cookie_gate.py and test_dp_handshake.py."""

import socket

import pytest

from dpside import Side

PACKET_MAX = 1500


@pytest.fixture
def side():
    s = Side(PACKET_MAX)
    s.start()
    yield s
    s.close()


@pytest.fixture
def sender():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2)
    yield s
    s.close()
