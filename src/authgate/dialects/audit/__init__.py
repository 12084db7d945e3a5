"""The audit log for staff: `GET /api/audit/` (DRF-shaped, like the records dialect)."""

from authgate.dialects.audit.routes import build

__all__ = ["build"]
