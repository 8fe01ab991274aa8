"""series-tool: analyse Linux-kernel-style patch series that migrate an API."""

__version__ = "0.1.0"
