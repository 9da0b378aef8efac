"""wgpy: WireGuard for home routers (Python control plane, C data plane)."""

__version__ = "0.1.0"
