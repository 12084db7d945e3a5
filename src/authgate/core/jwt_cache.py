"""What lets an access JWT be checked from memory: the hot path of every JWT-guarded request.

Two caches, each safe on its own terms:
- `VerifiedTokens` remembers the claims of access tokens whose signature, audience, issuer and
  type were already checked. A token's bytes cannot change, so neither can that verdict; only
  `exp` moves with time, and it is checked again on every hit.
- `SubjectCache` remembers each user's record, JWT generation (core/jwt.py's `ver`) and ended
  logins (`sid`), which is what revocation changes. Like PrincipalCache it is emptied per
  user by the revocation feed (core/revocations.py): at once in this process, within a poll
  interval in every other one, and at the latest after its TTL.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from authgate.core.models import Principal, User

# A user, their JWT generation, and the `sid`s of their logins ended by a refresh token's reuse.
Subject = tuple[User, int, frozenset[str]]


class Verified:
    """An access token that passed every check: its claims, what each use reads of them (read
    once, when verified), and the verdict last given on it."""

    __slots__ = ("claims", "expires", "principal", "subject", "user_id")

    def __init__(
        self, claims: dict[str, Any], *, leeway_seconds: float, user_id: int | None
    ) -> None:
        self.claims = claims
        # Past this (by the system clock, as PyJWT judges `exp`) the token has expired.
        self.expires: float = claims["exp"] + leeway_seconds
        self.user_id = user_id
        # The subject the token was last checked against and the principal it proved then:
        # against the very same subject (a cached one, which nothing changes) the verdict is
        # the same, so a cached token's check is a comparison of identities.
        self.subject: Subject | None = None
        self.principal: Principal | None = None


class VerifiedTokens:
    """A bounded map access token -> its verified claims (Verified)."""

    def __init__(self, *, max_entries: int, leeway_seconds: float) -> None:
        self._max_entries = max_entries
        self._leeway = leeway_seconds
        self._entries: dict[str, Verified] = {}

    def get(self, raw: str) -> Verified | None:
        """A token verified before, if it has not expired since. PyJWT judges `exp` by the
        system clock, and so does this."""
        verified = self._entries.get(raw)
        if verified is None:
            return None
        if verified.expires <= time.time():
            del self._entries[raw]
            return None
        return verified

    def put(self, raw: str, claims: dict[str, Any], *, user_id: int | None = None) -> Verified:
        """Remember a token that passed every check, of these claims and this `user_id` (the
        oldest goes when full); the entry, kept or not."""
        if self._max_entries <= 0:
            return Verified(claims, leeway_seconds=self._leeway, user_id=user_id)
        if raw not in self._entries and len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        # JSON decoding makes each token's claim names anew: the kept claims share one copy of
        # each name (some 400 bytes a token; bench/memory.py jwt_get).
        kept = {sys.intern(name): value for name, value in claims.items()}
        verified = self._entries[raw] = Verified(kept, leeway_seconds=self._leeway, user_id=user_id)
        return verified

    def __len__(self) -> int:
        return len(self._entries)


class SubjectCache:
    """A bounded map user id -> (user, JWT generation, ended logins), evictable per user."""

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
        self._entries: dict[int, tuple[Subject, float]] = {}
        # Bumped by every eviction, so a read that raced one is not cached (see put).
        self.generation = 0

    def get(self, user_id: int) -> Subject | None:
        """The cached subject of a user, if fresh."""
        entry = self._entries.get(user_id)
        if entry is None:
            return None
        if entry[1] < self._monotonic():
            del self._entries[user_id]
            return None
        return entry[0]

    def put(self, user_id: int, subject: Subject, *, generation: int) -> None:
        """Cache a subject read from the store when `generation` was current, unless an
        eviction happened since: that read may predate the change which caused it."""
        if self._ttl <= 0 or self._max_entries <= 0 or generation != self.generation:
            return
        if user_id not in self._entries and len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[user_id] = (subject, self._monotonic() + self._ttl)

    def evict_users(self, user_ids: set[int]) -> None:
        """Forget these users."""
        self.generation += 1
        for user_id in user_ids:
            self._entries.pop(user_id, None)

    def clear(self) -> None:
        """Forget everyone (the revocation feed was lost)."""
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
