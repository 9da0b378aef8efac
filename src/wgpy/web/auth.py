"""Who may use the page: the password check, sessions with their CSRF token, and the
login rate limit.

The password is root's from /etc/shadow when root has one (as LuCI logs in), checked with
crypt(3); otherwise wgpy's own, set by `wgpy passwd` or on first start and stored as an
scrypt hash in a root-only file. Sessions live in memory only (a restart logs everybody
out) and expire after SESSION_IDLE_S without a request. No HTTP here: server.py and api.py
turn these answers into cookies and status codes.
"""

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, Optional

SHADOW = "/etc/shadow"
PASSWD_FILE = "/etc/wgpy/web.passwd"
MIN_PASSWORD_LEN = 8
SESSION_IDLE_S = 3600  # LuCI's default sessiontime
MAX_SESSIONS = 64
# scrypt at 16 MiB: about 0.1 s on a router-class CPU, expensive enough for an offline guess.
_SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
# Login attempts: per client and for everybody together (a LAN full of bots).
MAX_FAILURES_PER_CLIENT = 5
MAX_FAILURES_TOTAL = 30
FAILURE_WINDOW_S = 300.0


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
        return stored is not None and check_hash(password, stored)

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
    token: str
    csrf: str
    last_used: float


class Sessions:
    """Session tokens (the cookie) -> Session; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_token: Dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self) -> Session:
        with self._lock:
            if len(self._by_token) >= MAX_SESSIONS:
                oldest = min(self._by_token.values(), key=lambda s: s.last_used)
                del self._by_token[oldest.token]
            session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock())
            self._by_token[session.token] = session
            return session

    def get(self, token: Optional[str]) -> Optional[Session]:
        """The live session for a cookie value (and mark it used), or None."""
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


@dataclass
class RateLimiter:
    """Failed logins in the last FAILURE_WINDOW_S, per client and in total."""
    clock: Callable[[], float] = time.monotonic
    _per_client: Dict[str, Deque[float]] = field(default_factory=dict)
    _total: Deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _trim(self, times: Deque[float]) -> None:
        while times and self.clock() - times[0] > FAILURE_WINDOW_S:
            times.popleft()

    def retry_after(self, client: str) -> Optional[int]:
        """Seconds the client must wait before trying again, or None if it may try now."""
        with self._lock:
            mine = self._per_client.get(client, deque())
            self._trim(mine)
            self._trim(self._total)
            for times, limit in ((mine, MAX_FAILURES_PER_CLIENT),
                                 (self._total, MAX_FAILURES_TOTAL)):
                if len(times) >= limit:
                    return max(1, int(FAILURE_WINDOW_S - (self.clock() - times[0])) + 1)
            return None

    def failed(self, client: str) -> None:
        with self._lock:
            self._per_client.setdefault(client, deque()).append(self.clock())
            self._total.append(self.clock())
            if len(self._per_client) > 1024:  # forget the quietest clients first
                self._per_client.pop(next(iter(self._per_client)))
