"""The web UI's server side: `wgpy web` (web_main) and `wgpy passwd` (passwd_main).

server.py speaks HTTP, api.py maps requests to views.py (reads) and actions.py (writes),
auth.py guards them; the page itself is in webui/ at the top of the source tree. The entry
points import lazily so that `import wgpy.web` has no side effects.
"""

from typing import List, Optional


def web_main(argv: Optional[List[str]] = None) -> int:
    """`wgpy web [--listen ADDR:PORT] ...`."""
    from wgpy.web.cli import web_main as main
    return main(argv)


def passwd_main(argv: Optional[List[str]] = None) -> int:
    """`wgpy passwd`."""
    from wgpy.web.cli import passwd_main as main
    return main(argv)
