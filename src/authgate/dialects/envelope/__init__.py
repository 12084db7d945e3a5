"""The envelope dialect, mounted at /api/v1/ and /api/v1/accounts/ (CONTRACT.md section 3)."""

from authgate.dialects.envelope.routes import build

__all__ = ["build"]
