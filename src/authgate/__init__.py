"""authgate: a self-hosted authentication service."""

__version__ = "0.1.0"
