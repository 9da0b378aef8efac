"""The page's server side: wgpy's ubus methods, and `wgpy web` for development boxes.

methods.py is the one table of ubus methods, over views.py (reads) and actions.py
(writes); rpcd.py serves it as an rpcd exec plugin on a router (uhttpd + rpcd carry the
page's calls there); `wgpy web` (cli.py) serves it with server.py (HTTP), jsonrpc.py (ubus
JSON-RPC at /ubus) and auth.py (login). The page itself is wgpy/webui (HTML, CSS, plain
JavaScript). docs/web.md has the whole picture.
"""
