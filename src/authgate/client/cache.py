"""A short-lived memory of tokens authgate vouched for, so a service does not ask it on every
request. Keyed by the token's SHA-256, never the token itself (a heap dump leaks no usable
credential); only successes are kept (a refused token may be good a moment later: the user logs
in again). The TTL is how long a revoked token may still pass here: keep it short."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

from .identity import Identity


def token_digest(token: str) -> bytes:
    """The cache key of a token."""
    return hashlib.sha256(token.encode()).digest()


class IdentityCache:
    """A bounded LRU of token digest -> (identity, expiry). Not locked: each operation is a
    few dict operations, atomic enough under the GIL for a cache (a lost race costs one more
    question to authgate, never a wrong answer)."""

    def __init__(
        self,
        ttl_seconds: float,
        max_size: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[Identity, float]] = OrderedDict()

    def get(self, token: str) -> Identity | None:
        """The identity remembered for `token`, if still fresh."""
        if self.ttl <= 0:
            return None
        key = token_digest(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        identity, expires = entry
        if self._clock() >= expires:
            self._entries.pop(key, None)
            return None
        return identity

    def put(self, token: str, identity: Identity) -> None:
        """Remember that authgate vouched for `token` just now."""
        if self.ttl <= 0 or self.max_size <= 0:
            return
        key = token_digest(token)
        self._entries[key] = (identity, self._clock() + self.ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def forget(self, token: str) -> None:
        """Drop `token` at once (a revocation learnt some other way)."""
        self._entries.pop(token_digest(token), None)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Drop everything."""
        self._entries.clear()

    def evict_user(self, user_id: str) -> None:
        """Forget every token of a user (authgate pushed a revocation: rare, so a scan)."""
        for key in [k for k, (identity, _) in self._entries.items() if identity.user_id == user_id]:
            self._entries.pop(key, None)
