"""The tests' client of `wgpy web` (a module of its own, as webdata.py, so test files can
import it): raw HTTP, and ubus JSON-RPC as the page's rpc.js sends it."""

import http.client
import json

from webdata import PASSWORD

NULL_SID = "0" * 32


class Client:
    """HTTP/1.1 to the test server; remembers the session id of its last login."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sid = None
        self.next_id = 1

    def raw(self, method, path, body=b"", headers=None):
        """Send exactly this request; -> (status, headers dict, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        hdrs = dict(headers or {})
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in hdrs.items():
            conn.putheader(name, value)
        if body or method in ("POST", "PUT"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def post(self, request, headers=None):
        """POST one JSON-RPC request (any JSON) to /ubus; -> (HTTP status, parsed answer)."""
        status, _, raw = self.raw("POST", "/ubus", json.dumps(request).encode(),
                                  dict({"Content-Type": "application/json"}, **(headers or {})))
        return status, json.loads(raw or b"{}")

    def rpc(self, sid, obj, method, args=None):
        """One `call`; -> the JSON-RPC answer (HTTP must be 200)."""
        self.next_id += 1
        status, answer = self.post({"jsonrpc": "2.0", "id": self.next_id, "method": "call",
                                    "params": [sid, obj, method, {} if args is None else args]})
        assert status == 200, (status, answer)
        return answer

    def call(self, method, args=None, obj="wgpy", sid=None):
        """A call in this client's session; -> (ubus status, reply or None), or the
        JSON-RPC error object (e.g. {"code": -32002, ...}) when there is one."""
        answer = self.rpc(sid or self.sid or NULL_SID, obj, method, args)
        if "error" in answer:
            return answer["error"]
        result = answer["result"]
        return result[0], (result[1] if len(result) > 1 else None)

    def login(self, password=PASSWORD, username="root"):
        """`session login`; -> (ubus status, reply); keeps the session id on success."""
        status, reply = self.call("login", {"username": username, "password": password},
                                  obj="session", sid=NULL_SID)
        if status == 0:
            self.sid = reply["ubus_rpc_session"]
        return status, reply
