"""The UAPI: `wg`'s configuration protocol (protocol.py, pure) and its Unix socket (server.py)."""
