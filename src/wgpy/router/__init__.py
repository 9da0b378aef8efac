"""The router side: UCI-driven interfaces (control.py), the `wgpy` command, netconf,
endpoint resolution, ubus handlers and service."""
