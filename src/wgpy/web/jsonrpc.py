"""`wgpy web`'s /ubus: ubus JSON-RPC as uhttpd answers it, for development boxes and the
demo, where no uhttpd, rpcd and ubusd run. A parsed request in, the response object out;
server.py carries it over HTTP.

What stands in for rpcd here:
- `session login {username, password}` with the null session: "root" and root's password
  from /etc/shadow, or wgpy's own (auth.Passwords), checked through auth.LoginGate (bounded,
  charged before the check, per source). Answers as rpcd does: [0, {ubus_rpc_session, ...}],
  a wrong password [6] (permission denied); the gate's refusals [6, {error, retry_after}].
- `session destroy`: logs the session out.
- `wgpy.web info` and `setup` (wgpy web only, the null session may call them): whether a
  password exists, and the first start's setup code + new password, which logs in.
- every other call needs a live session (else JSON-RPC error -32002, access denied, as
  uhttpd answers an unknown or expired session) and goes to methods.dispatch, the table the
  router's rpcd plugin uses. There is one user, who may call every method, as root may
  through rpcd with LuCI's `read '*'`/`write '*'` login.

Only single `call` requests are answered (the page sends nothing else; uhttpd's batches
and `list` are not needed). The session id is a parameter of every call, in the JSON
body; no cookie or header authenticates a request, so no CSRF token is needed
(webui/rpc.js says why).
"""

import hmac
import threading

from wgpy.web import auth, methods, validate
from wgpy.web.validate import FieldError

NULL_SID = "0" * 32
USER = "root"
SESSION = "session"
WEB = "wgpy.web"

# ubus status codes (libubus's enum ubus_msg_status) and uhttpd's JSON-RPC errors
OK, INVALID_ARGUMENT, METHOD_NOT_FOUND, PERMISSION_DENIED = 0, 2, 3, 6
PARSE_ERROR = (-32700, "Parse error")
INVALID_REQUEST = (-32600, "Invalid request")
METHOD_UNKNOWN = (-32601, "Method not found")
OBJECT_NOT_FOUND = (-32000, "Object not found")
ACCESS_DENIED = (-32002, "Access denied")


def error(request_id, which) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": which[0], "message": which[1]}}


def _result(request_id, status: int, data=None) -> dict:
    return {"jsonrpc": "2.0", "id": request_id,
            "result": [status] if data is None else [status, data]}


class Endpoint:
    """One per server: sessions, the login gate, the setup code, the method context."""

    def __init__(self, ctx: methods.Context, passwords: auth.Passwords,
                 sessions=None, gate=None, setup_code=None) -> None:
        self.ctx, self.passwords = ctx, passwords
        self.sessions = sessions or auth.Sessions()
        self.gate = gate or auth.LoginGate()
        # While no password exists, whoever shows this code sets it; None: nobody can.
        self.setup_code = setup_code
        self._setup_lock = threading.Lock()

    def handle(self, request, client: str) -> dict:
        """One JSON-RPC request object (parsed JSON) from `client` (its address)."""
        if not isinstance(request, dict):
            return error(None, INVALID_REQUEST)
        request_id = request.get("id")
        params = request.get("params")
        if request.get("method") != "call":
            return error(request_id, METHOD_UNKNOWN)
        if not (isinstance(params, list) and len(params) == 4
                and all(isinstance(p, str) for p in params[:3])
                and isinstance(params[3], dict)):
            return error(request_id, PARSE_ERROR)  # uhttpd's answer to malformed params
        sid, obj, name, args = params
        if methods.SESSION_ARG in args:
            return error(request_id, (-32602, "Invalid parameters"))  # as uhttpd refuses it
        try:
            status, data = self._call(sid, obj, name, args, client)
        except KeyError:
            return error(request_id, OBJECT_NOT_FOUND)
        except _Denied:
            return error(request_id, ACCESS_DENIED)
        except methods.InvalidArgument:
            status, data = INVALID_ARGUMENT, None
        except FieldError as exc:
            status, data = INVALID_ARGUMENT, methods.refusal(methods.INVALID, exc.message,
                                                             field=exc.field)
        return _result(request_id, status, data)

    def _call(self, sid, obj, name, args, client):
        if obj == SESSION:
            return self._session(sid, name, args, client)
        if obj == WEB:
            return self._web(name, args, client)
        if obj not in methods.OBJECTS:
            raise KeyError(obj)
        if self.sessions.get(sid) is None:
            raise _Denied()
        if name not in methods.OBJECTS[obj]:
            return METHOD_NOT_FOUND, None
        return OK, methods.dispatch(self.ctx, obj, name, args)

    # ---- rpcd's `session` object, the part the page uses ----

    def _session(self, sid, name, args, client):
        if name == "login":
            username = validate.text(args, "username")
            password = validate.text(args, "password")
            refused = self._checked(client, lambda: username == USER and bool(password)
                                    and self.passwords.verify(password))
            return refused or self._start_session()
        if name == "destroy":
            if self.sessions.get(sid) is None:
                raise _Denied()
            self.sessions.drop(sid)
            return OK, None
        raise _Denied()  # rpcd's other session methods: not granted to the page

    def _start_session(self):
        session = self.sessions.create()
        return OK, {"ubus_rpc_session": session.token, "timeout": auth.SESSION_IDLE_S,
                    "expires": auth.SESSION_IDLE_S, "acls": {}, "data": {"username": USER}}

    def _checked(self, client, check):
        """A password check through the gate; -> None if it passed, else the answer."""
        refused = self.gate.begin(client)
        if refused is not None:
            status, wait = refused
            message = "too many failed logins; try again later" if status == 429 else \
                "busy checking other logins; try again in a moment"
            return PERMISSION_DENIED, {"error": message, "retry_after": wait}
        ok = False
        try:
            ok = check()
        finally:
            self.gate.end(client, ok)
        return None if ok else (PERMISSION_DENIED, None)

    # ---- `wgpy.web`: first start ----

    def _web(self, name, args, client):
        if name == "info":
            password_set = self.passwords.source() is not None
            out = {"password_set": password_set}
            if not password_set:
                out["setup_open"] = self.setup_code is not None
            return OK, out
        if name == "setup":
            return self._setup(args, client)
        return METHOD_NOT_FOUND, None

    def _setup(self, args, client):
        """The visitor who shows the setup code from the console or the system log sets
        wgpy's password; refused once any password exists."""
        code, password = validate.text(args, "setup_code"), validate.text(args, "password")
        if self.passwords.source() is not None:
            return PERMISSION_DENIED, {"error": "a password is already set; log in"}
        if len(password) < auth.MIN_PASSWORD_LEN:
            raise FieldError("password", "the password needs at least %d characters"
                             % auth.MIN_PASSWORD_LEN)

        def set_if_code_matches() -> bool:
            with self._setup_lock:
                if self.setup_code is None or not hmac.compare_digest(
                        code.strip().lower().encode(), self.setup_code.encode()):
                    return False
                self.passwords.set(password)
                self.setup_code = None
                return True
        refused = self._checked(client, set_if_code_matches)
        if refused == (PERMISSION_DENIED, None):
            return PERMISSION_DENIED, {
                "error": "wrong setup code: it is in the system log (logread) or on the "
                         "console where wgpy web started", "field": "setup_code"}
        return refused or self._start_session()


class _Denied(Exception):
    """JSON-RPC error -32002."""
