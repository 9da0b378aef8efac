"""The demo's "internet" web server: tells each visitor the address it came from.

    python whoami.py ADDR[,ADDR...] PORT      (IPv4 and IPv6 addresses alike)

GET / answers "you came from A.B.C.D" (one line, what a what-is-my-IP site shows), GET /big
answers BIG_BYTES of filler so the demo can watch tunnel byte counters move. Every request
is logged to stdout as "seen A.B.C.D PATH", so the demo can show what the server saw.
"""

import http.server
import socket
import sys
import threading

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


class Server6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def main() -> None:
    addresses, port = sys.argv[1].split(","), int(sys.argv[2])
    servers = [(Server6 if ":" in a else http.server.ThreadingHTTPServer)((a, port), Handler)
               for a in addresses]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"serving on {', '.join(addresses)} port {port}", flush=True)
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
