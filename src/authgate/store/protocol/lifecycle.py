"""Opening, checking and closing the store."""

from __future__ import annotations

from typing import Protocol


class StoreLifecycle(Protocol):
    """Opening, checking and closing the store."""

    async def connect(self) -> None:
        """Open connections; called once before the first query."""
        ...

    async def schema_revision(self) -> str | None:
        """The Alembic revision the database is at; None when it has no schema yet. For
        /readyz (http/health.py), which compares it with store/revisions.py's head."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
