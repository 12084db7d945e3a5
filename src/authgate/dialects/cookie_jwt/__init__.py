"""The cookie JWT API's dialect, mounted at /u/api/ (CONTRACT.md section 4)."""

from authgate.dialects.cookie_jwt.routes import build

__all__ = ["build"]
