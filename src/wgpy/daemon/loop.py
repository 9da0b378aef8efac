"""The daemon's one event loop: a selector over the TUN, the UDP sockets, the UAPI listener
and its connections, plus a signal wake-up pipe, and one timer taken from dev.get_timer().

This is the only place with a real clock (time.monotonic). After every event the Device's
outgoing queues are drained to the UDP sockets and the TUN. With a FastPath (the C datapath,
the default), the C workers own the TUN and the UDP receive side; the loop watches their
event fd instead and syncs their activity before running timers. An MtuWatch (mtu.py) makes
any change of the TUN's MTU reach the padding in Python and C; PeerEvents (events.py) sends
wgpy.peer.up/down from the housekeeping tick. The loop ends on SIGTERM/SIGINT,
when the interface is deleted, or when our UAPI socket file is removed; `run` says which.
"""

import selectors
import signal
import socket
import time
from typing import Callable, Optional

from wgpy.daemon.events import PeerEvents
from wgpy.daemon.log import peer_name
from wgpy.daemon.mtu import MtuWatch
from wgpy.daemon.tun import Tun, TunGone
from wgpy.daemon.udp import UdpSockets
from wgpy.uapi.text import ENOANO, UapiError, execute_set, parse_set, render_get
from wgpy.uapi.server import Connection, Listener

# Packets handled per readiness event before yielding to the other sources, so a busy
# tunnel cannot starve the UAPI or the timers.
BATCH = 64
HOUSEKEEPING_INTERVAL_S = 1.0


class Loop:
    """Drives `dev` from real I/O until told to stop."""

    def __init__(self, dev, tun: Tun, udp: UdpSockets, listener: Listener, log,
                 clock: Callable[[], float] = time.monotonic, fastpath=None,
                 clock_floor=None) -> None:
        self.dev, self.tun, self.udp, self.listener, self.log = dev, tun, udp, listener, log
        self.fastpath = fastpath
        self.clock_floor = clock_floor
        self.clock = clock
        self.stop_reason: Optional[str] = None
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._next_housekeeping = 0.0
        self.peer_events = PeerEvents(tun.name)

    # ---- setup and the loop itself ----

    def run(self) -> str:
        """Serve until stopped; returns why."""
        for fd in (self._wake_r, self._wake_w):
            fd.setblocking(False)
        old_wakeup = signal.set_wakeup_fd(self._wake_w.fileno())
        old_handlers = {sig: signal.signal(sig, self._on_signal)
                        for sig in (signal.SIGTERM, signal.SIGINT)}
        self._sel.register(self._wake_r, selectors.EVENT_READ, self._drain_wakeup)
        self._sel.register(self.listener, selectors.EVENT_READ, self._on_accept)
        if self.fastpath is None:
            self._sel.register(self.tun, selectors.EVENT_READ, self._on_tun)
        else:
            self._sel.register(self.fastpath, selectors.EVENT_READ, self._on_datapath)
        self._register_udp()
        mtu_watch = MtuWatch(self.tun.name, self.dev.mtu, self._on_mtu)
        self._sel.register(mtu_watch, selectors.EVENT_READ, self._on_mtu_event)
        try:
            while self.stop_reason is None:
                self._turn()
        finally:
            mtu_watch.close()
            if self.fastpath is not None:
                self.fastpath.stop()
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
            self._close_connections()
            self._sel.close()
            self._wake_r.close()
            self._wake_w.close()
        return self.stop_reason

    def _turn(self) -> None:
        for key, mask in self._sel.select(self._timeout()):
            self._guarded(key.data, key.fileobj, mask)
        now = self.clock()
        fastpath = self.fastpath
        if fastpath is not None and fastpath.next_sync is not None and now >= fastpath.next_sync:
            self._guarded(fastpath.sync, now)
        deadline = self.dev.get_timer()
        if deadline is not None and now >= deadline:
            if fastpath is not None:
                self._guarded(fastpath.sync, now)   # the workers' traffic may move deadlines
            self._guarded(self.dev.handle_timer, now)
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + HOUSEKEEPING_INTERVAL_S
            if self.listener.is_gone():
                self.stop_reason = "UAPI socket file removed"
            if self.clock_floor is not None:
                self._guarded(self.clock_floor.update, self.dev)
            self._guarded(self.peer_events.check, self.dev)

    def _guarded(self, handler: Callable, *args) -> None:
        """Run one event handler, then drain the Device's queues."""
        try:
            handler(*args)
            self._flush()
        except TunGone as exc:
            self.stop_reason = f"interface gone ({exc})"
        except Exception:  # a bug in one handler must not take the tunnel down
            self.log.exception("internal error while handling an event")

    def _timeout(self) -> float:
        deadline = self._next_housekeeping
        for timer in (self.dev.get_timer(), self.fastpath and self.fastpath.next_sync):
            if timer is not None:
                deadline = min(deadline, timer)
        return max(0.0, deadline - self.clock())

    def _flush(self) -> None:
        """Send what the Device queued; TUN refusals (link down) just drop the packet."""
        if self.fastpath is not None:
            self.fastpath.flush_config()
        for payload, remote in self.dev.datagrams_to_send():
            error = self.udp.send(payload, remote)
            if error is not None:
                self.log.debug("sending to %s:%d failed: %s", remote[0], remote[1], error)
        for packet in self.dev.packets_to_deliver():
            self.tun.write(packet)

    # ---- event handlers: handler(fileobj, mask) ----

    def _on_signal(self, signum, frame) -> None:
        self.stop_reason = f"received {signal.Signals(signum).name}"

    def _drain_wakeup(self, sock, mask) -> None:
        try:
            while sock.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _on_tun(self, tun, mask) -> None:
        for _ in range(BATCH):
            packet = tun.read()
            if packet is None:
                return
            self.dev.receive_packet(packet, self.clock())

    def _on_datapath(self, fastpath, mask) -> None:
        fastpath.on_event(self.clock())
        if fastpath.tun_gone():
            raise TunGone("reading the TUN failed in the datapath")

    def _on_mtu_event(self, watch: MtuWatch, mask) -> None:
        watch.on_readable()

    def _on_mtu(self, mtu: int) -> None:
        self.dev.mtu = mtu
        if self.fastpath is not None:
            self.fastpath.set_mtu(mtu)
        self.log.debug("MTU of %s is now %d", self.tun.name, mtu)

    def _on_udp(self, sock, mask) -> None:
        for data, remote in self.udp.receive(sock, BATCH):
            self.dev.receive_datagram(data, remote, self.clock())

    def _on_accept(self, listener, mask) -> None:
        client = listener.accept()
        if client is not None:
            conn = Connection(client, self._handle_uapi)
            self._sel.register(conn, selectors.EVENT_READ, self._on_connection)

    def _on_connection(self, conn: Connection, mask) -> None:
        if mask & selectors.EVENT_READ:
            conn.on_readable()
        if mask & selectors.EVENT_WRITE and not conn.closed:
            conn.on_writable()
        if conn.closed:
            self._sel.unregister(conn)
        else:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.wants_write else 0)
            self._sel.modify(conn, events, self._on_connection)

    def _close_connections(self) -> None:
        for key in list(self._sel.get_map().values()):
            if isinstance(key.fileobj, Connection):
                key.fileobj.close()

    # ---- UAPI ----

    def _handle_uapi(self, op: str, body) -> str:
        """The answer to one UAPI operation; internal errors answer ENOANO, never crash."""
        try:
            if op == "get":
                if self.fastpath is not None:
                    self.fastpath.sync(self.clock())    # counters and roaming from C
                return render_get(self.dev)
            request = parse_set(body)
            execute_set(self.dev, request, self.clock(), self)
            self.log.debug("UAPI: set applied: %d device ops, peers %s", len(request.device_ops),
                           " ".join(peer_name(p.public_key) for p in request.peers) or "-")
            return "errno=0\n\n"
        except UapiError as exc:
            self.log.error("UAPI: %s request refused: %s", op, exc)
            return f"errno={-exc.errno}\n\n"
        except Exception:
            self.log.exception("UAPI: internal error in %s", op)
            return f"errno={-ENOANO}\n\n"

    def rebind(self, listen_port: int, fwmark: int) -> int:
        """The `Network` hook of execute_set: move the UDP sockets, keeping the selector in step."""
        if self.fastpath is None:
            for sock in self.udp.sockets.values():
                self._sel.unregister(sock)
        else:
            self.fastpath.stop()
        try:
            port = self.udp.rebind(listen_port, fwmark)
        finally:
            self._register_udp()
        self.log.debug("UDP: listening on port %d, fwmark %d", port, fwmark)
        return port

    def _register_udp(self) -> None:
        """Watch the UDP sockets, or restart the workers on them: only one side reads."""
        if self.fastpath is not None:
            self.fastpath.start()
            return
        for sock in self.udp.sockets.values():
            self._sel.register(sock, selectors.EVENT_READ, self._on_udp)
