"""The daemon's one event loop: poll(2) over the TUN, the UDP sockets, the UAPI listener
and its connections, plus SIGTERM/SIGINT as a file descriptor (runtime/signals.py), and one
timer taken from dev.get_timer().

This is the only place with a real clock (CLOCK_MONOTONIC, system.monotonic). After every event the Device's
outgoing queues are drained to the UDP sockets and the TUN. With a FastPath (the C datapath,
the default), the C workers own the TUN and the UDP receive side; the loop watches their
event fd instead and syncs their activity before running timers. An MtuWatch (mtu.py) makes
any change of the TUN's MTU reach the padding in Python and C; PeerEvents (events.py) sends
wgpy.peer.up/down from the housekeeping tick. The loop ends on SIGTERM/SIGINT,
when the interface is deleted, or when our UAPI socket file is removed; `run` says which.
"""

import select
from logging import DEBUG

from wgpy.daemon.events import PeerEvents
from wgpy.daemon.log import peer_name
from wgpy.daemon.mtu import MtuWatch
from wgpy.daemon.tun import TunGone
from wgpy.runtime import system
from wgpy.runtime.signals import StopSignals
from wgpy.uapi.server import Connection
from wgpy.uapi.text import ENOANO, UapiError, execute_set, parse_set, render_get

# Packets handled per readiness event before yielding to the other sources, so a busy
# tunnel cannot starve the UAPI or the timers.
BATCH = 64
HOUSEKEEPING_INTERVAL_S = 1.0


class Loop:
    """Drives `dev` from real I/O until told to stop."""

    def __init__(self, dev, tun, udp, listener, log, clock=system.monotonic, fastpath=None,
                 clock_floor=None) -> None:
        """tun: daemon/tun.Tun, udp: daemon/udp.UdpSockets, listener: uapi/server.Listener;
        clock: monotonic seconds."""
        self.dev, self.tun, self.udp, self.listener, self.log = dev, tun, udp, listener, log
        self.fastpath = fastpath
        self.clock_floor = clock_floor
        self.clock = clock
        self.stop_reason = None
        self._poll = select.poll()
        self._watched = {}      # fd -> (the object, its handler(object, events))
        self._signals = StopSignals()
        self._next_housekeeping = 0.0
        self.peer_events = PeerEvents(tun.name)

    # ---- setup and the loop itself ----

    def run(self) -> str:
        """Serve until stopped; returns why."""
        # Before the datapath's threads start: they inherit the signal mask (signals.py).
        self._signals.open()
        self._watch(self._signals, self._on_signal)
        self._watch(self.listener, self._on_accept)
        if self.fastpath is None:
            self._watch(self.tun, self._on_tun)
        else:
            self._watch(self.fastpath, self._on_datapath)
        self._register_udp()
        mtu_watch = MtuWatch(self.tun.name, self.dev.mtu, self._on_mtu)
        self._watch(mtu_watch, self._on_mtu_event)
        try:
            while self.stop_reason is None:
                self._turn()
        finally:
            mtu_watch.close()
            if self.fastpath is not None:
                self.fastpath.stop()
            self._close_connections()
            self._signals.close()
        return self.stop_reason

    def _watch(self, obj, handler, events: int = select.POLLIN) -> None:
        fd = obj.fileno()
        self._watched[fd] = (obj, handler)
        self._poll.register(fd, events)

    def _unwatch(self, fd: int) -> None:
        del self._watched[fd]
        self._poll.unregister(fd)

    def _turn(self) -> None:
        # Whole milliseconds, rounded up: waking before a deadline would only spin.
        for fd, events in self._poll.poll(int(self._timeout() * 1000 + 0.999)):
            watched = self._watched.get(fd)
            if watched is not None:     # not closed by an earlier handler of this turn
                self._guarded(watched[1], watched[0], events)
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

    def _guarded(self, handler, *args) -> None:
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
        fastpath = self.fastpath
        if fastpath is not None:
            fastpath.flush_config()
        for payload, remote in self.dev.datagrams_to_send():
            if fastpath is not None:
                error = fastpath.send_datagram(payload, remote)
            else:
                error = self.udp.send(payload, remote)
            if error is not None:
                self.log.debug("sending to %s:%d failed: %s", remote[0], remote[1], error)
        for packet in self.dev.packets_to_deliver():
            self.tun.write(packet)

    # ---- event handlers: handler(object, poll events) ----

    def _on_signal(self, signals, events) -> None:
        name = signals.take()
        if name is not None:
            self.stop_reason = f"received {name}"

    def _on_tun(self, tun, mask) -> None:
        for _ in range(BATCH):
            packet = tun.read()
            if packet is None:
                return
            self.dev.receive_packet(packet, self.clock())

    def _on_datapath(self, fastpath, mask) -> None:
        fastpath.on_event(self.clock, self._flush)
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
            self._watch(conn, self._on_connection)

    def _on_connection(self, conn: Connection, events) -> None:
        fd = conn.fileno()
        if events & (select.POLLIN | select.POLLHUP | select.POLLERR):
            conn.on_readable()
        if events & select.POLLOUT and not conn.closed:
            conn.on_writable()
        if conn.closed:
            self._unwatch(fd)
        else:
            self._poll.modify(fd, select.POLLIN | (select.POLLOUT if conn.wants_write else 0))

    def _close_connections(self) -> None:
        for obj, _ in list(self._watched.values()):
            if isinstance(obj, Connection):
                obj.close()

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
            if self.log.isEnabledFor(DEBUG):    # not a string of 1,000 peer names for nothing
                self.log.debug("UAPI: set applied: %d device ops, peers %s",
                               len(request.device_ops),
                               " ".join(peer_name(p.public_key) for p in request.peers) or "-")
            return "errno=0\n\n"
        except UapiError as exc:
            self.log.error("UAPI: %s request refused: %s", op, exc)
            return f"errno={-exc.errno}\n\n"
        except Exception:
            self.log.exception("UAPI: internal error in %s", op)
            return f"errno={-ENOANO}\n\n"

    def rebind(self, listen_port: int, fwmark: int) -> int:
        """The `Network` hook of execute_set: move the UDP sockets, keeping the poll set in step."""
        if self.fastpath is None:
            for sock in self.udp.sockets.values():
                self._unwatch(sock.fileno())
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
            self._watch(sock, self._on_udp)
