"""wgpyd's logging: stderr in the foreground, syslog once daemonized; LOG_LEVEL as wireguard-go.

LOG_LEVEL=verbose|debug logs everything, error (the default, as in wireguard-go) only
errors, silent nothing. Keys never reach a log line: peers are named by `peer_name`.
"""

import binascii
import logging
import sys

from wgpy.runtime import system

_LEVELS = {"verbose": logging.DEBUG, "debug": logging.DEBUG, "error": logging.ERROR,
           "silent": logging.CRITICAL + 1}
_SYSLOG_PRIORITY = {logging.DEBUG: system.LOG_DEBUG, logging.INFO: system.LOG_INFO,
                    logging.WARNING: system.LOG_WARNING, logging.ERROR: system.LOG_ERR,
                    logging.CRITICAL: system.LOG_CRIT}


class _SyslogHandler(logging.Handler):
    """Writes through libc syslog(3), which copes with a missing /dev/log."""

    def emit(self, record) -> None:
        try:
            system.syslog(_SYSLOG_PRIORITY.get(record.levelno, system.LOG_INFO),
                         self.format(record))
        except Exception:  # noqa: BLE001 - a logging failure must never take the daemon down
            pass


def level_from_env(value: str) -> int:
    """LOG_LEVEL text -> logging level; anything unknown means errors only."""
    return _LEVELS.get(value.strip().lower(), logging.ERROR)


def setup(ifname: str, level: int, use_syslog: bool) -> logging.Logger:
    """Configure and return the daemon's logger for interface `ifname`."""
    logger = logging.getLogger("wgpyd")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(level)
    if use_syslog:
        system.openlog("wgpyd", system.LOG_PID, system.LOG_DAEMON)
        handler = _SyslogHandler()
        handler.setFormatter(logging.Formatter(f"({ifname}) %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(
            f"%(levelname)s: ({ifname}) %(asctime)s %(message)s", "%Y/%m/%d %H:%M:%S"))
    logger.addHandler(handler)
    return logger


def peer_name(public_key: bytes) -> str:
    """A short, log-safe name for a peer: `peer(AbCd…)` from its public key."""
    return f"peer({binascii.b2a_base64(public_key).decode()[:5]}…)"
