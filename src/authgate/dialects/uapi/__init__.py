"""The cookie JWT API's dialect, mounted at /u/api/ (CONTRACT.md section 4)."""

from authgate.dialects.uapi.routes import build

__all__ = ["build"]
