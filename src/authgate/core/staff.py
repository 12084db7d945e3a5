"""The one rule of every staff-only change (towns, groups, permissions): who may make it."""

from __future__ import annotations

from authgate.core.errors import PermissionDeniedError
from authgate.core.models import User


def require_staff(actor: User) -> None:
    """PermissionDeniedError unless `actor` is active staff (Django's IsAdminUser; a
    superuser without is_staff is no admin there either)."""
    if not (actor.is_active and actor.is_staff):
        raise PermissionDeniedError
