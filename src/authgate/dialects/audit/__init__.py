"""The audit log for staff: `GET /api/audit/` (DRF-shaped, like the directory dialect)."""

from authgate.dialects.audit.routes import build

__all__ = ["build"]
