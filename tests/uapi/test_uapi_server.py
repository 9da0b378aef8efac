"""The UAPI socket glue: framing, several operations per connection, bad input never
hangs the server, and the listener's file handling (modes, stale and live sockets)."""

import os
import socket
import stat

import pytest

from wgpy.uapi import server


def make_connection(handler=None):
    calls = []

    def record(op, body):
        calls.append((op, list(body)))
        return f"{op}-answer\nerrno=0\n\n"

    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    return server.Connection(ours, handler or record), theirs, calls


def feed(conn, peer, data, shutdown=False):
    """Send `data` from the client side, let the connection run, return all it answered."""
    peer.sendall(data)
    if shutdown:
        peer.shutdown(socket.SHUT_WR)
    for _ in range(2):  # once for the data, once more to see an EOF
        conn.on_readable()
    peer.settimeout(0.2)
    chunks = []
    try:
        while chunk := peer.recv(65536):
            chunks.append(chunk)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks).decode()


def test_get_then_set_on_one_connection():
    conn, peer, calls = make_connection()
    reply = feed(conn, peer, b"get=1\n\nset=1\nlisten_port=1\nfwmark=2\n\n")
    assert reply == "get-answer\nerrno=0\n\nset-answer\nerrno=0\n\n"
    assert calls == [("get", []), ("set", ["listen_port=1", "fwmark=2"])]
    assert not conn.closed


def test_operation_split_across_reads():
    conn, peer, calls = make_connection()
    for piece in (b"se", b"t=1\nlisten_", b"port=5\n", b"\n"):
        peer.sendall(piece)
        conn.on_readable()
    assert calls == [("set", ["listen_port=5"])]


def test_get_with_trailing_bytes_is_einval_and_closes():
    conn, peer, calls = make_connection()
    assert feed(conn, peer, b"get=1\nx\n") == "errno=-22\n\n"
    assert calls == [] and conn.closed


def test_unknown_operation_closes_without_answer():
    conn, peer, calls = make_connection()
    assert feed(conn, peer, b"frobnicate=1\n\n") == ""
    assert conn.closed and calls == []


def test_eof_ends_a_set():
    conn, peer, calls = make_connection()
    assert feed(conn, peer, b"set=1\nfwmark=1\n", shutdown=True) == "set-answer\nerrno=0\n\n"
    assert calls == [("set", ["fwmark=1"])] and conn.closed


def test_endless_line_closes_connection():
    conn, peer, calls = make_connection()
    feed(conn, peer, b"set=1\n" + b"x" * (server.MAX_LINE_BYTES + 10))
    assert conn.closed and calls == []


def test_binary_garbage_reaches_handler_as_text():
    conn, peer, calls = make_connection()
    feed(conn, peer, b"set=1\n\xff\xfe=\x00\n\n")
    assert calls[0][0] == "set" and len(calls[0][1]) == 1


def test_client_vanishing_mid_answer_only_closes():
    conn, peer, _ = make_connection(lambda op, body: "x" * 10_000_000)
    peer.sendall(b"get=1\n\n")
    peer.close()
    conn.on_readable()
    while not conn.closed and conn.wants_write:
        conn.on_writable()
    assert conn.closed


def test_listener_modes_and_cleanup(tmp_path):
    directory = tmp_path / "run" / "wireguard"
    listener = server.Listener("wgtest0", str(directory))
    path = directory / "wgtest0.sock"
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o755
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0  # umask 077: root only
    assert not listener.is_gone()
    listener.close()
    assert not path.exists()


def test_stale_socket_is_replaced_live_one_refused(tmp_path):
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(tmp_path / "wgtest1.sock"))
    stale.close()  # the file stays, nobody listens: stale
    listener = server.Listener("wgtest1", str(tmp_path))
    with pytest.raises(server.SocketInUse):
        server.Listener("wgtest1", str(tmp_path))
    listener.close()


def test_removed_socket_file_is_noticed_and_not_unlinked_twice(tmp_path):
    listener = server.Listener("wgtest2", str(tmp_path))
    os.unlink(tmp_path / "wgtest2.sock")
    assert listener.is_gone()
    successor = server.Listener("wgtest2", str(tmp_path))
    listener.close()  # must not remove the successor's file
    assert (tmp_path / "wgtest2.sock").exists()
    successor.close()


def test_accept_returns_non_blocking_clients(tmp_path):
    listener = server.Listener("wgtest3", str(tmp_path))
    assert listener.accept() is None
    client = socket.socket(socket.AF_UNIX)
    client.connect(str(tmp_path / "wgtest3.sock"))
    accepted = listener.accept()
    assert accepted is not None and accepted.getblocking() is False
    accepted.close()
    client.close()
    listener.close()


def test_one_byte_at_a_time_gives_the_same_operations():
    conn, peer, calls = make_connection()
    for byte in b"set=1\nfwmark=1\n\nget=1\n\n":
        peer.sendall(bytes([byte]))
        conn.on_readable()
    assert calls == [("set", ["fwmark=1"]), ("get", [])] and not conn.closed
