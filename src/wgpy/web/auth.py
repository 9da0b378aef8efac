"""Who may use `wgpy web`'s page: the password check, sessions, the gate before every
password check, and the one-time setup code. (On a router, rpcd does all of this.)

The password is root's from /etc/shadow when root has one (as LuCI logs in), checked with
crypt(3); otherwise wgpy's own, set by `wgpy passwd` or on first start and stored as an
scrypt hash in a root-only file. Sessions live in memory only (a restart logs everybody
out) and expire after SESSION_IDLE_S without a request. No transport here: jsonrpc.py
turns these answers into ubus JSON-RPC replies.
"""

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, Optional, Tuple

SHADOW = "/etc/shadow"
PASSWD_FILE = "/etc/wgpy/web.passwd"
MIN_PASSWORD_LEN = 8
SESSION_IDLE_S = 3600  # LuCI's default sessiontime
MAX_SESSIONS = 64
# scrypt holding 8 MiB (128 * r * n bytes) and run twice (p = 2): the CPU time of N = 2^14
# with half its memory, because the memory is what a burst of logins takes from a router
# (docs/security.md, "Memory under a login burst"). Hashes stored with other parameters
# still verify and are rewritten with these on the next good login.
_SCRYPT = {"n": 2 ** 13, "r": 8, "p": 2}
# Password checks at once: each scrypt check holds 8 MiB, so this bounds what requests can
# make the server allocate before anybody is logged in (docs/security.md, "Login").
MAX_CONCURRENT_CHECKS = 1
# Failed checks in FAILURE_WINDOW_S: per source, and the total beyond which every source
# is down to one try (LoginGate).
MAX_FAILURES_PER_CLIENT = 5
MAX_FAILURES_TOTAL = 30
FAILURE_WINDOW_S = 300.0
MAX_SOURCES = 1024
IPV6_SOURCE_PREFIX = 64
# 12 hex digits: typed by hand; guesses go through LoginGate like passwords.
SETUP_CODE_BYTES = 6


def new_setup_code() -> str:
    """The one-time code that lets the first visitor set the password: printed on the
    console or the system log, where only the router's owner reads it."""
    return secrets.token_hex(SETUP_CODE_BYTES)


def _crypt():
    """The crypt module (deprecated in 3.11, gone in 3.13), or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            return None
    return crypt


def root_hash(shadow_path: str = SHADOW) -> Optional[str]:
    """Root's crypt hash, or None when root has no usable password ("", "*", "!...") or
    the file cannot be read or the hash cannot be checked here."""
    try:
        with open(shadow_path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if fields[0] == "root" and len(fields) > 1:
            stored = fields[1]
            usable = stored.startswith("$") and _crypt() is not None
            return stored if usable else None
    return None


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash`, base64 fields."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + \
        f"{base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _parameters(stored: str) -> str:
    """The `scrypt$N$r$p` part of a stored hash."""
    return "$".join(stored.strip().split("$")[:4])


def check_hash(password: str, stored: str) -> bool:
    """True if `password` matches a hash_password() result."""
    try:
        kind, n, r, p, salt, digest = stored.strip().split("$")
        if kind != "scrypt":
            return False
        mine = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                              r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(mine, base64.b64decode(digest))


class Passwords:
    """Root's shadow password when set, else wgpy's own password file."""

    def __init__(self, passwd_file: str = PASSWD_FILE, shadow_path: str = SHADOW) -> None:
        self.passwd_file, self.shadow_path = passwd_file, shadow_path

    def source(self) -> Optional[str]:
        """"shadow", "wgpy", or None while no password exists (first start)."""
        if root_hash(self.shadow_path) is not None:
            return "shadow"
        return "wgpy" if self._stored() else None

    def _stored(self) -> Optional[str]:
        try:
            with open(self.passwd_file, encoding="utf-8") as f:
                return f.read().strip() or None
        except OSError:
            return None

    def verify(self, password: str) -> bool:
        stored = root_hash(self.shadow_path)
        if stored is not None:
            return hmac.compare_digest(_crypt().crypt(password, stored), stored)
        stored = self._stored()
        if stored is None or not check_hash(password, stored):
            return False
        if _parameters(stored) != "scrypt${n}${r}${p}".format(**_SCRYPT):
            try:
                self.set(password)
            except (OSError, ValueError):
                pass  # still verifies as it is (a read-only file, an old short password)
        return True

    def set(self, password: str) -> None:
        """Store wgpy's password (mode 0600, written atomically); raises ValueError if too
        short."""
        if len(password) < MIN_PASSWORD_LEN:
            raise ValueError(f"the password needs at least {MIN_PASSWORD_LEN} characters")
        directory = os.path.dirname(self.passwd_file) or "."
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = f"{self.passwd_file}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(hash_password(password) + "\n")
        os.replace(tmp, self.passwd_file)


@dataclass
class Session:
    token: str  # the ubus_rpc_session id: 32 hex digits, as rpcd makes them
    last_used: float


class Sessions:
    """Session ids -> Session; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_token: Dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self) -> Session:
        with self._lock:
            if len(self._by_token) >= MAX_SESSIONS:
                oldest = min(self._by_token.values(), key=lambda s: s.last_used)
                del self._by_token[oldest.token]
            session = Session(secrets.token_hex(16), self.clock())
            self._by_token[session.token] = session
            return session

    def get(self, token: Optional[str]) -> Optional[Session]:
        """The live session for an id (and mark it used), or None."""
        if not token:
            return None
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None
            if self.clock() - session.last_used > SESSION_IDLE_S:
                del self._by_token[token]
                return None
            session.last_used = self.clock()
            return session

    def drop(self, token: str) -> None:
        with self._lock:
            self._by_token.pop(token, None)


def source_of(client: str) -> str:
    """What the limits count per source: an IPv4 address, or an IPv6 /64 (one host may use
    any address of its /64, so counting addresses would let it start afresh at will)."""
    try:
        address = ipaddress.ip_address(client.split("%")[0])
    except ValueError:
        return client
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_SOURCE_PREFIX}", strict=False))
    return str(address)


@dataclass
class LoginGate:
    """What stands before every password check (login and first-start setup).

    A check charges a failure to its source before it runs, and takes it back only on
    success, so a burst from one source gets MAX_FAILURES_PER_CLIENT checks, not one per
    request. At most MAX_CONCURRENT_CHECKS run at once; a request finding them busy is
    answered at once and not charged. The limits are per source: an attacker's failures
    never lock out another address. Once MAX_FAILURES_TOTAL failures are in the window,
    every source is down to one try, so many addresses do not multiply the guesses much,
    while the owner at a clean address still gets in.
    """
    clock: Callable[[], float] = time.monotonic
    _per_client: Dict[str, Deque[float]] = field(default_factory=dict)
    _total: Deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(MAX_CONCURRENT_CHECKS))

    def _trim(self, times: Deque[float]) -> None:
        while times and self.clock() - times[0] > FAILURE_WINDOW_S:
            times.popleft()

    def begin(self, client: str) -> Optional[Tuple[int, int]]:
        """Before a check: None when it may run now (a failure is charged and a slot
        taken: call end()), else (HTTP status, seconds to wait): 429 when the source is
        over its limit, 503 when every slot is busy."""
        source = source_of(client)
        with self._lock:
            mine = self._per_client.setdefault(source, deque())
            self._trim(mine)
            self._trim(self._total)
            limit = MAX_FAILURES_PER_CLIENT if len(self._total) < MAX_FAILURES_TOTAL else 1
            if len(mine) >= limit:
                return 429, max(1, int(FAILURE_WINDOW_S - (self.clock() - mine[0])) + 1)
            if not self._slots.acquire(blocking=False):
                return 503, 1
            mine.append(self.clock())
            self._total.append(mine[-1])
            if len(self._per_client) > MAX_SOURCES:  # forget the quietest sources first
                self._per_client.pop(next(iter(self._per_client)))
            return None

    def end(self, client: str, ok: bool) -> None:
        """After the check begin() allowed: free its slot; success takes the charge back."""
        with self._lock:
            if ok:
                mine = self._per_client.get(source_of(client))
                if mine:
                    stamp = mine.pop()
                    if stamp in self._total:
                        self._total.remove(stamp)
        self._slots.release()
