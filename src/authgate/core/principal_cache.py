"""Recently resolved credentials (opaque tokens, browser sessions) and user records, so the hot
path answers from memory instead of the database.

An entry is dropped when anything about its user changes (logout, password change, profile
update, deactivation, deletion): in this process at once, in every other process (workers,
nodes) when it reads the revocation feed (core/revocations.py), and at the latest after the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from authgate.core.models import User


class OfUser(Protocol):
    """What a cached credential resolves to: at least its user (evictions are per user)."""

    @property
    def user(self) -> User: ...


P = TypeVar("P", bound=OfUser)


class PrincipalCache(Generic[P]):
    """A bounded map credential digest -> what it resolved to (a TokenPrincipal, a Session),
    or user id (as text) -> what the store holds of them (core/directory.py), evictable per
    user."""

    def __init__(
        self,
        *,
        max_entries: int,
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._entries: dict[str, tuple[P, float]] = {}
        self._digests_of_user: dict[int, set[str]] = {}
        # Bumped by every eviction, so a read that raced one is not cached (see put).
        self.generation = 0

    @property
    def enabled(self) -> bool:
        """False when configured off (TTL or size 0)."""
        return self._ttl > 0 and self._max_entries > 0

    def get(self, digest: str) -> P | None:
        """The cached principal of a digest, if fresh."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        principal, expires = entry
        if expires < self._monotonic():
            self._drop(digest, principal.user.id)
            return None
        return principal

    def put(self, digest: str, principal: P, *, generation: int) -> None:
        """Cache a principal read from the store when `generation` was current, unless an
        eviction happened since: that read may predate the change which caused it."""
        if not self.enabled or generation != self.generation:
            return
        if digest not in self._entries and len(self._entries) >= self._max_entries:
            oldest = next(iter(self._entries))
            self._drop(oldest, self._entries[oldest][0].user.id)
        self._entries[digest] = (principal, self._monotonic() + self._ttl)
        self._digests_of_user.setdefault(principal.user.id, set()).add(digest)

    def refresh(self, digest: str, principal: P) -> None:
        """Replace a cached entry's principal (a newer last_used_at), keeping its expiry."""
        entry = self._entries.get(digest)
        if entry is not None:
            self._entries[digest] = (principal, entry[1])

    def discard(self, digest: str) -> None:
        """Forget one entry (its owner found it stale and reads the store again)."""
        entry = self._entries.get(digest)
        if entry is not None:
            self._drop(digest, entry[0].user.id)

    def evict_users(self, user_ids: set[int]) -> None:
        """Forget every entry of these users."""
        self.generation += 1
        for user_id in user_ids:
            for digest in self._digests_of_user.pop(user_id, set()):
                self._entries.pop(digest, None)

    def clear(self) -> None:
        """Forget everything (the revocation feed was lost)."""
        self.generation += 1
        self._entries.clear()
        self._digests_of_user.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, digest: str, user_id: int) -> None:
        self._entries.pop(digest, None)
        digests = self._digests_of_user.get(user_id)
        if digests is not None:
            digests.discard(digest)
            if not digests:
                del self._digests_of_user[user_id]
