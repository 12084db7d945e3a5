"""Browser sessions (core/sessions.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from authgate.core.models import SessionRecord, User


class SessionStore(Protocol):
    """Browser sessions (core/sessions.py)."""

    async def create_session(self, record: SessionRecord) -> None:
        """Store a new session digest; NotFoundError if its user no longer exists."""
        ...

    async def get_session(self, digest: str) -> tuple[User, SessionRecord] | None:
        """The session with this digest and its user, in one indexed read."""
        ...

    async def touch_session(self, digest: str, at: datetime) -> None:
        """Record that a session was used."""
        ...

    async def delete_session(self, user_id: int, digest: str) -> bool:
        """End one session of this user; False if there was none."""
        ...

    async def delete_user_sessions(self, user_id: int) -> int:
        """End every session of a user; returns how many."""
        ...

    async def list_user_sessions(self, user_id: int) -> list[SessionRecord]:
        """The user's sessions, newest first (expired ones included until pruned)."""
        ...

    async def prune_sessions(self, before: datetime) -> int:
        """Delete sessions that expired before `before`; returns how many."""
        ...
