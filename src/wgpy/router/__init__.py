"""The router side: UCI-driven interfaces (control.py: up, down, reload, the watchdog and the
MTU refresh), netconf, endpoint resolution, status handlers."""
