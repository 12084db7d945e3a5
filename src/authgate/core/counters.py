"""Shared counters for throttling and lockout: in this process, or in Redis for many.

With `AUTHGATE_REDIS_URL` the counters live in Redis, kept by the `limits` library (fixed
windows), so every worker and node counts together; without it each process counts alone in
MemoryCounters. When Redis cannot be reached the counters fall back to this process's memory
until it can again: limits get per-process rather than shared for that time, and
authentication keeps working.

Not `limits`' own in-memory storage: it rescans every key it holds after each hit (with a
thread hop per key for moving windows), which at a few thousand accounts costs more than the
argon2id hash a login pays for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from authgate.rates import Rate

if TYPE_CHECKING:
    from limits.aio.storage import RedisStorage

log = logging.getLogger(__name__)
T = TypeVar("T")
# After a Redis failure, how long to stay on memory before trying Redis again.
RETRY_REDIS_AFTER_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.5
# Expired counters are dropped when next touched, and all of them at most this often.
SWEEP_EVERY_SECONDS = 30.0


class MemoryCounters:
    """Expiring counters of this process: each key's count and when it resets."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}
        self._next_sweep = clock() + SWEEP_EVERY_SECONDS

    def incr(self, key: str, expiry_seconds: float) -> int:
        """Add one to a counter that resets `expiry_seconds` after its first increment."""
        now = self._sweep()
        count, resets = self._counts.get(key, (0, 0.0))
        if resets <= now:
            count, resets = 0, now + expiry_seconds
        self._counts[key] = (count + 1, resets)
        return count + 1

    def get(self, key: str) -> int:
        """A counter's value (0 when absent or reset)."""
        count, resets = self._counts.get(key, (0, 0.0))
        return count if resets > self._clock() else 0

    def hit(self, key: str, limit: int, window_seconds: float) -> float | None:
        """Count one request in a fixed window: None if within `limit`, else the seconds
        until the window resets."""
        count = self.incr(key, window_seconds)
        if count <= limit:
            return None
        return max(0.0, self._counts[key][1] - self._clock())

    def clear(self, key: str) -> None:
        """Forget a counter."""
        self._counts.pop(key, None)

    def __len__(self) -> int:
        return len(self._counts)

    def _sweep(self) -> float:
        now = self._clock()
        if now >= self._next_sweep:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            self._next_sweep = now + SWEEP_EVERY_SECONDS
        return now


class Counters:
    """Window limits and plain expiring counters, over Redis (when configured) or memory."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._memory = MemoryCounters()
        self._shared: RedisStorage | None = None
        self._storage_error: type[Exception] = OSError
        if redis_url is not None:
            # Loaded only with Redis configured: `limits` and the Redis client weigh tens of MB.
            from limits.aio.storage import RedisStorage
            from limits.errors import StorageError

            self._storage_error = StorageError
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

    async def hit(self, rate: Rate, *identifiers: str) -> float | None:
        """Count one request against `rate` for `identifiers`: None if allowed, else the
        seconds until the window lets one through again."""

        async def in_redis(storage: Any) -> float | None:
            from limits import RateLimitItemPerSecond
            from limits.aio.strategies import FixedWindowRateLimiter

            item = RateLimitItemPerSecond(rate.amount, rate.seconds)
            limiter = FixedWindowRateLimiter(storage)
            if await limiter.hit(item, *identifiers):
                return None
            stats = await limiter.get_window_stats(item, *identifiers)
            return max(0.0, stats.reset_time - time.time())

        key = rate.key_for(*identifiers)
        return await self._run(in_redis, lambda: self._memory.hit(key, rate.amount, rate.seconds))

    async def incr(self, key: str, expiry_seconds: int) -> int:
        """Add one to a counter that expires `expiry_seconds` after its first increment."""
        return await self._run(
            lambda storage: storage.incr(key, expiry_seconds),
            lambda: self._memory.incr(key, expiry_seconds),
        )

    async def get(self, key: str) -> int:
        """A counter's value (0 when absent or expired)."""
        return await self._run(lambda storage: storage.get(key), lambda: self._memory.get(key))

    async def clear(self, *keys: str) -> None:
        """Forget counters (in memory too, so a fallback period leaves nothing behind)."""
        for key in keys:
            self._memory.clear(key)
            if self.shared:

                async def clear_in_redis(storage: Any, key: str = key) -> None:
                    await storage.clear(key)

                await self._run(clear_in_redis, lambda: None)

    async def _run(self, in_redis: Callable[[Any], Awaitable[T]], in_memory: Callable[[], T]) -> T:
        if self._shared is not None and time.monotonic() >= self._down_until:
            try:
                return await in_redis(self._shared)
            except self._storage_error:
                self._down_until = time.monotonic() + RETRY_REDIS_AFTER_SECONDS
                log.warning(
                    "Redis is unreachable: throttling and lockout count in this process"
                    " for the next %.0f s",
                    RETRY_REDIS_AFTER_SECONDS,
                )
        return in_memory()
