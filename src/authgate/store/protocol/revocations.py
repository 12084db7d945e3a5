"""The revocation feed every worker follows (core/revocations.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class RevocationStore(Protocol):
    """The revocation feed every worker follows (core/revocations.py)."""

    async def append_revocation(self, user_id: int, at: datetime) -> None:
        """Add a row to the revocation feed; rows must become visible in id order."""
        ...

    async def last_revocation_id(self) -> int:
        """The id of the feed's newest row (0 when empty)."""
        ...

    async def revocations_after(self, after: int) -> list[tuple[int, int]]:
        """(id, user_id) of the feed's rows newer than `after`, oldest first."""
        ...

    async def prune_revocations(self, before: datetime) -> None:
        """Delete feed rows older than `before`."""
        ...
