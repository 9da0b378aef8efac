"""The demo's "internet" web server: tells each visitor the address it came from.

    python whoami.py ADDR PORT

GET / answers "you came from A.B.C.D" (one line, what a what-is-my-IP site shows), GET /big
answers BIG_BYTES of filler so the demo can watch tunnel byte counters move. Every request
is logged to stdout as "seen A.B.C.D PATH", so the demo can show what the server saw.
"""

import http.server
import sys

BIG_BYTES = 1 << 20


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        client = self.client_address[0]
        print(f"seen {client} {self.path}", flush=True)
        if self.path == "/big":
            body = b"x" * BIG_BYTES
        else:
            body = f"you came from {client}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # noqa: A002 - stdlib signature
        pass  # our own "seen" line above is the log


def main() -> None:
    address, port = sys.argv[1], int(sys.argv[2])
    server = http.server.ThreadingHTTPServer((address, port), Handler)
    print(f"serving on {address}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
