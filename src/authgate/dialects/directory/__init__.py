"""The users/towns API's user records (`/user/<id>/`) and towns (`/api/towns/`), in DRF's shapes
(CONTRACT.md section 5)."""

from authgate.dialects.directory.routes import build

__all__ = ["build"]
