"""The JSON API behind the page (documented in openapi.json): a Request in, a Response out.

The rules every request passes, in order: a route must match (404); everything but the
login endpoints needs a live session cookie (401); every method other than GET needs the
session's CSRF token in X-CSRF-Token (403); then the handler validates its body (400 with
the field). The HTTP plumbing, body size limit and static files are server.py's.
"""

import hmac
import json
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from wgpy import keys
from wgpy.uci import edit, schema
from wgpy.uci.store import UciError
from wgpy.web import actions, auth, validate, views
from wgpy.web.validate import FieldError

COOKIE = "wgpy_sid"
OPENAPI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi.json")


@dataclass
class Request:
    method: str
    path: str
    body: Optional[dict] = None
    session_token: Optional[str] = None  # the cookie
    csrf: Optional[str] = None  # the X-CSRF-Token header
    client: str = ""  # remote address, for the login rate limit


@dataclass
class Response:
    status: int
    body: dict
    headers: Dict[str, str] = field(default_factory=dict)


def _error(status: int, message: str, **extra) -> Response:
    return Response(status, dict(error=message, **extra))


def session_cookie(token: str) -> str:
    """HttpOnly: no script can read it; SameSite=Strict: no other site can send it."""
    return f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"


Handler = Callable[..., Response]


class Api:
    """Routes requests to handlers; one instance per server."""

    def __init__(self, ctx: actions.Context, passwords: auth.Passwords,
                 sessions: Optional[auth.Sessions] = None,
                 gate: Optional[auth.LoginGate] = None,
                 setup_code: Optional[str] = None) -> None:
        self.ctx, self.passwords = ctx, passwords
        self.sessions = sessions or auth.Sessions()
        self.gate = gate or auth.LoginGate()
        # While no password exists, whoever shows this code sets it; None: nobody can.
        self.setup_code = setup_code
        self._setup_lock = threading.Lock()
        ifname, peer = r"(?P<ifname>[A-Za-z0-9_]+)", r"(?P<peer>[A-Za-z0-9_@\[\]-]+)"
        # (method, path pattern, handler, public: answers without a session)
        self.routes: List[Tuple[str, "re.Pattern[str]", Handler, bool]] = [
            (m, re.compile(f"/api/{p}"), h, public) for m, p, h, public in [
                ("GET", "session", self.get_session, True),
                ("POST", "login", self.login, True),
                ("POST", "setup", self.setup, True),
                ("POST", "logout", self.logout, False),
                ("GET", "openapi.json", self.openapi, False),
                ("GET", "status", self.status, False),
                ("GET", "interfaces", self.interfaces, False),
                ("GET", f"interfaces/{ifname}", self.interface, False),
                ("PUT", f"interfaces/{ifname}", self.put_interface, False),
                ("POST", f"interfaces/{ifname}/private-key", self.regenerate_key, False),
                ("GET", f"interfaces/{ifname}/suggest", self.suggest, False),
                ("POST", f"interfaces/{ifname}/peers", self.add_peer, False),
                ("PUT", f"interfaces/{ifname}/peers/{peer}", self.put_peer, False),
                ("DELETE", f"interfaces/{ifname}/peers/{peer}", self.delete_peer, False),
                ("POST", f"interfaces/{ifname}/devices", self.add_device, False),
                ("POST", "import", self.import_config, False),
                ("POST", "keys/keypair", self.keypair, False),
                ("POST", "keys/psk", self.psk, False),
            ]]

    def handle(self, req: Request) -> Response:
        """Authenticate, authorize and dispatch one request."""
        found = self._route(req)
        if isinstance(found, Response):
            return found
        handler, params, public = found
        if not public:
            session = self.sessions.get(req.session_token)
            if session is None:
                return _error(401, "login required")
            if req.method != "GET" and not hmac.compare_digest(
                    (req.csrf or "").encode(), session.csrf.encode()):
                return _error(403, "CSRF token missing or wrong")
        try:
            return handler(req, **params)
        except FieldError as exc:
            return _error(400, exc.message, field=exc.field)
        except actions.NotFound as exc:
            return _error(404, str(exc))
        except edit.Conflict as exc:
            return _error(409, str(exc), revision=exc.revision)
        except UciError as exc:
            return _error(500, f"configuration: {exc}")

    def _route(self, req: Request):
        allowed = []
        for method, pattern, handler, public in self.routes:
            match = pattern.fullmatch(req.path)
            if match:
                if method == req.method:
                    return handler, match.groupdict(), public
                allowed.append(method)
        if allowed:
            return Response(405, {"error": "method not allowed"},
                            {"Allow": ", ".join(allowed)})
        return _error(404, "no such endpoint")

    def _body(self, req: Request) -> dict:
        if not isinstance(req.body, dict):
            raise FieldError("body", "a JSON object is required")
        return req.body

    # ---- session ----

    def get_session(self, req: Request) -> Response:
        session = self.sessions.get(req.session_token)
        password_set = self.passwords.source() is not None
        out = {"authenticated": session is not None, "password_set": password_set}
        if not password_set:
            out["setup_open"] = self.setup_code is not None
        if session is not None:
            out.update(csrf=session.csrf, hostname=views.hostname(self.ctx.store),
                       password_source=self.passwords.source())
        return Response(200, out)

    def _start_session(self) -> Response:
        session = self.sessions.create()
        return Response(200, {"csrf": session.csrf},
                        {"Set-Cookie": session_cookie(session.token)})

    def _checked(self, req: Request, check: Callable[[], bool]) -> Optional[Response]:
        """Run a password check through the gate; -> None if it passed, else the answer:
        429 or 503 without running it, 401 when it failed."""
        refused = self.gate.begin(req.client)
        if refused is not None:
            status, wait = refused
            message = "too many failed logins; try again later" if status == 429 else \
                "busy checking other logins; try again in a moment"
            return Response(status, {"error": message}, {"Retry-After": str(wait)})
        ok = False
        try:
            ok = check()
        finally:
            self.gate.end(req.client, ok)
        return None if ok else _error(401, "wrong password")

    def login(self, req: Request) -> Response:
        password = validate.text(self._body(req), "password")
        refused = self._checked(req, lambda: bool(password) and self.passwords.verify(password))
        return refused or self._start_session()

    def setup(self, req: Request) -> Response:
        """First start: the visitor who shows the setup code from the console or the
        system log sets wgpy's password; refused once any password exists."""
        body = self._body(req)
        code, password = validate.text(body, "setup_code"), validate.text(body, "password")
        if self.passwords.source() is not None:
            return _error(403, "a password is already set; log in")
        if len(password) < auth.MIN_PASSWORD_LEN:
            raise FieldError("password", f"the password needs at least "
                                         f"{auth.MIN_PASSWORD_LEN} characters")

        def set_if_code_matches() -> bool:
            with self._setup_lock:
                if self.setup_code is None or not hmac.compare_digest(
                        code.strip().lower().encode(), self.setup_code.encode()):
                    return False
                self.passwords.set(password)
                self.setup_code = None
                return True
        refused = self._checked(req, set_if_code_matches)
        if refused is not None and refused.status == 401:
            return _error(401, "wrong setup code: it is in the system log (logread) or on "
                               "the console where wgpy web started", field="setup_code")
        return refused or self._start_session()

    def logout(self, req: Request) -> Response:
        self.sessions.drop(req.session_token or "")
        return Response(200, {}, {"Set-Cookie": f"{COOKIE}=; HttpOnly; SameSite=Strict; "
                                                f"Path=/; Max-Age=0"})

    def openapi(self, req: Request) -> Response:
        with open(OPENAPI, encoding="utf-8") as f:
            return Response(200, json.load(f))

    # ---- reading ----

    def status(self, req: Request) -> Response:
        return Response(200, views.status(self.ctx.store))

    def interfaces(self, req: Request) -> Response:
        return Response(200, {"interfaces": views.interface_names(edit.load(self.ctx.store))})

    def interface(self, req: Request, ifname: str) -> Response:
        package = edit.load(self.ctx.store)
        section = actions.interface_section(package, ifname)
        return Response(200, views.interface_detail(package, section))

    def suggest(self, req: Request, ifname: str) -> Response:
        package = edit.load(self.ctx.store)
        section = actions.interface_section(package, ifname)
        return Response(200, views.suggest(self.ctx.store, package, section))

    # ---- writing ----

    def put_interface(self, req: Request, ifname: str) -> Response:
        return Response(200, actions.update_interface(self.ctx, ifname, self._body(req)))

    def regenerate_key(self, req: Request, ifname: str) -> Response:
        return Response(200, actions.regenerate_key(self.ctx, ifname))

    def add_peer(self, req: Request, ifname: str) -> Response:
        return Response(201, actions.add_peer(self.ctx, ifname, self._body(req)))

    def put_peer(self, req: Request, ifname: str, peer: str) -> Response:
        return Response(200, actions.update_peer(self.ctx, ifname, peer, self._body(req)))

    def delete_peer(self, req: Request, ifname: str, peer: str) -> Response:
        return Response(200, actions.delete_peer(self.ctx, ifname, peer))

    def add_device(self, req: Request, ifname: str) -> Response:
        return Response(201, actions.add_device(self.ctx, ifname, self._body(req)))

    def import_config(self, req: Request) -> Response:
        return Response(201, actions.import_config(self.ctx, self._body(req)))

    def keypair(self, req: Request) -> Response:
        private = keys.generate()
        return Response(200, {"private_key": private, "public_key": keys.public_key(private)})

    def psk(self, req: Request) -> Response:
        return Response(200, {"preshared_key": keys.generate()})
