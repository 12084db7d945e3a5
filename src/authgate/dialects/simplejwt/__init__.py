"""The SimpleJWT dialect, mounted at /auth/jwt/ (CONTRACT.md section 2)."""

from authgate.dialects.simplejwt.routes import build

__all__ = ["build"]
