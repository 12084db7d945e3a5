"""Shared counters for throttling and lockout: in this process, or in Redis for many.

The `limits` library keeps the counters. With `AUTHGATE_REDIS_URL` they live in Redis, so every
worker and node counts together; without it each process counts alone. When Redis cannot be
reached the counters fall back to this process's memory until it can again: limits get
per-process rather than shared for that time, and authentication keeps working.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from limits import RateLimitItem
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

log = logging.getLogger(__name__)
T = TypeVar("T")
# After a Redis failure, how long to stay on memory before trying Redis again.
RETRY_REDIS_AFTER_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.5


class Counters:
    """Window limits and plain expiring counters, over Redis or memory."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._memory = MemoryStorage()
        self._shared: Storage | None = None
        if redis_url is not None:
            self._shared = RedisStorage(
                "async+" + redis_url,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix="authgate",
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        self._down_until = 0.0

    @property
    def shared(self) -> bool:
        """True when the counters live in Redis (and Redis is reachable as far as we know)."""
        return self._shared is not None and time.monotonic() >= self._down_until

    async def hit(self, item: RateLimitItem, *identifiers: str) -> float | None:
        """Count one request against `item` for `identifiers`: None if allowed, else the
        seconds until the window lets one through again."""

        async def hit_in(storage: Storage) -> float | None:
            limiter = MovingWindowRateLimiter(storage)
            if await limiter.hit(item, *identifiers):
                return None
            stats = await limiter.get_window_stats(item, *identifiers)
            return max(0.0, stats.reset_time - time.time())

        return await self._run(hit_in)

    async def incr(self, key: str, expiry_seconds: int) -> int:
        """Add one to a counter that expires `expiry_seconds` after its first increment."""
        return await self._run(lambda storage: storage.incr(key, expiry_seconds))

    async def get(self, key: str) -> int:
        """A counter's value (0 when absent or expired)."""
        return await self._run(lambda storage: storage.get(key))

    async def clear(self, *keys: str) -> None:
        """Forget counters (and in memory too, so a fallback period leaves nothing behind)."""
        for key in keys:
            await self._memory.clear(key)
            if self.shared:
                await self._run(lambda storage, key=key: storage.clear(key))  # type: ignore[misc]

    async def _run(self, operation: Callable[[Storage], Awaitable[T]]) -> T:
        if self._shared is not None and time.monotonic() >= self._down_until:
            try:
                return await operation(self._shared)
            except StorageError:
                self._down_until = time.monotonic() + RETRY_REDIS_AFTER_SECONDS
                log.warning(
                    "Redis is unreachable: throttling and lockout count in this process"
                    " for the next %.0f s",
                    RETRY_REDIS_AFTER_SECONDS,
                )
        return await operation(self._memory)
