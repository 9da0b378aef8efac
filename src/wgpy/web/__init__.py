"""The web UI's server side, started by `wgpy web` (cli.py).

server.py speaks HTTP, api.py maps requests to views.py (reads) and actions.py (writes),
auth.py guards them; the page itself is wgpy/webui (HTML, CSS, plain JavaScript).
"""
