"""The Djoser/DRF token dialect, mounted at /auth/ and /api/v1/auth/ (CONTRACT.md section 1)."""

from authgate.dialects.djoser.routes import build

__all__ = ["build"]
