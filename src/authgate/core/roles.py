"""Application roles (`ADMIN`, `USER`, ...): a user's `role`, distinct from the staff and
superuser flags, and the one check the dialects make of it."""

from __future__ import annotations

from collections.abc import Collection

from authgate.core.errors import PermissionDeniedError
from authgate.core.models import User

ADMIN = "ADMIN"
USER = "USER"


def require_role(user: User, role: str, known: Collection[str] | None = None) -> None:
    """PermissionDeniedError unless `user` holds `role`; with `known` (the configured roles)
    a role that is not among them is held by nobody."""
    if user.role != role or (known is not None and role not in known):
        raise PermissionDeniedError
