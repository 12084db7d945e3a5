"""JWTs (core/jwt.py): used refresh tokens, ended logins and generations."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from authgate.core.models import User


class JwtStore(Protocol):
    """JWTs (core/jwt.py): used refresh tokens, ended logins and generations."""

    async def blacklist_jti(
        self, jti: str, user_id: int, expires_at: datetime, at: datetime
    ) -> bool:
        """Record a used JWT refresh token; False if it was already recorded (a reuse).
        NotFoundError if the user no longer exists."""
        ...

    async def is_jti_blacklisted(self, jti: str) -> bool:
        """Whether a JWT's jti has been recorded as used."""
        ...

    async def jti_used_at(self, jti: str) -> datetime | None:
        """When a JWT's jti was recorded as used; None if it never was."""
        ...

    async def prune_jwt_blacklist(self, before: datetime) -> None:
        """Forget used jtis of tokens that expired before `before`, and ended logins whose
        tokens all expired before it."""
        ...

    async def end_jwt_session(self, sid: str, user_id: int, expires_at: datetime) -> None:
        """End a login (a JWT `sid` family) until `expires_at`; nothing if already ended or
        if the user is gone."""
        ...

    async def get_jwt_subject(self, user_id: int) -> tuple[User, int, frozenset[str]] | None:
        """The user, their JWT generation (0 if never bumped) and their ended logins' `sid`s,
        in one read."""
        ...

    async def bump_jwt_version(self, user_id: int) -> int | None:
        """End every JWT issued to the user so far: the user's new generation (None, and
        nothing done, for a user that is gone)."""
        ...
