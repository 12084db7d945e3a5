"""Shared counters for throttling and lockout: in this process, or in Redis for many.

With `AUTHGATE_REDIS_URL` the counters live in Redis, so every worker and node counts
together; without it each process counts alone in MemoryCounters. Rate windows are kept by the
`limits` library (fixed windows); the lockout's plain counters by short Lua scripts here, each
one atomic in Redis as in memory.

Redis is never waited on for longer than `timeout_seconds` per call. The first call that fails
or times out marks it away: from then on every call counts in this process's memory at once,
and a background task (never a request) probes Redis until it answers. What holds meanwhile:

- every counter this process read or wrote in Redis is mirrored in memory, so a lock or a
  failure count it knew keeps holding through the outage;
- counts made during the outage go on in memory, and when Redis is back they are carried into
  it (the outage's increments added to Redis's count, never below this process's own count;
  the longer of the two expiries kept) before calls go to Redis again; counters cleared during
  the outage (a success, an unlock) are cleared in Redis first;
- rate windows (`hit`) restart in memory: limits get per-process for the time.

`clear_shared` (the CLI's unlock, which has no server memory to clear) refuses instead of
falling back: UnavailableError.

Not `limits`' own in-memory storage: it rescans every key it holds after each hit (with a
thread hop per key for moving windows), which at a few thousand accounts costs more than the
argon2id hash a login pays for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from authgate.core.errors import UnavailableError
from authgate.rates import Rate

if TYPE_CHECKING:
    from limits.aio.storage import RedisStorage

log = logging.getLogger(__name__)
T = TypeVar("T")
REDIS_TIMEOUT_SECONDS = 0.2
# While Redis is away, how often the background task asks it whether it is back.
PROBE_EVERY_SECONDS = 1.0
# Expired counters are dropped when next touched, and all of them at most this often.
SWEEP_EVERY_SECONDS = 30.0
KEY_PREFIX = "authgate:counter:"

# KEYS[1]: the counter. incr: ARGV[1] its expiry (s) when new. Each answers {count, pttl ms}.
_INCR = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
return {n, redis.call('pttl', KEYS[1])}
"""
_DECR = """
if redis.call('exists', KEYS[1]) == 0 then return {0, -2} end
local n = redis.call('decr', KEYS[1])
if n <= 0 then redis.call('del', KEYS[1]) return {0, -2} end
return {n, redis.call('pttl', KEYS[1])}
"""
_GET = """
return {tonumber(redis.call('get', KEYS[1]) or '0'), redis.call('pttl', KEYS[1])}
"""
# Several counters at once: {count, pttl ms} of each, flat.
_GET_MANY = """
local answer = {}
for _, key in ipairs(KEYS) do
  table.insert(answer, tonumber(redis.call('get', key) or '0'))
  table.insert(answer, redis.call('pttl', key))
end
return answer
"""
# Reserve an attempt: KEYS[1] a lock, KEYS[2] the counter; ARGV[1] the counter's expiry (s).
# {0, lock's count, its pttl} while the lock holds, else {1, count, pttl} of the counter.
_RESERVE = """
local lock = tonumber(redis.call('get', KEYS[1]) or '0')
if lock > 0 then return {0, lock, redis.call('pttl', KEYS[1])} end
local n = redis.call('incr', KEYS[2])
if n == 1 then redis.call('expire', KEYS[2], ARGV[1]) end
return {1, n, redis.call('pttl', KEYS[2])}
"""
# Carry an outage's count into Redis. ARGV: the increments made meanwhile, the count this
# process holds (a floor: Redis may have lost its data), the remaining milliseconds.
_MERGE = """
local current = tonumber(redis.call('get', KEYS[1]) or '0')
local n = math.max(current + tonumber(ARGV[1]), tonumber(ARGV[2]))
local ttl = math.max(redis.call('pttl', KEYS[1]), tonumber(ARGV[3]))
if n <= 0 then redis.call('del', KEYS[1]) else redis.call('set', KEYS[1], n, 'px', ttl) end
return n
"""


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

    def decr(self, key: str) -> int:
        """Take one back from a counter (gone at zero)."""
        count, resets = self._counts.get(key, (0, 0.0))
        if count <= 1 or resets <= self._clock():
            self._counts.pop(key, None)
            return 0
        self._counts[key] = (count - 1, resets)
        return count - 1

    def get(self, key: str) -> int:
        """A counter's value (0 when absent or reset)."""
        count, resets = self._counts.get(key, (0, 0.0))
        return count if resets > self._clock() else 0

    def remaining(self, key: str) -> float:
        """Seconds until a counter resets (0 when absent or reset)."""
        count, resets = self._counts.get(key, (0, 0.0))
        return max(0.0, resets - self._clock()) if count else 0.0

    def put(self, key: str, count: int, expiry_seconds: float) -> None:
        """Set a counter as read elsewhere (Redis): `count`, resetting in `expiry_seconds`."""
        if count <= 0 or expiry_seconds <= 0:
            self._counts.pop(key, None)
        else:
            self._counts[key] = (count, self._sweep() + expiry_seconds)

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

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        timeout_seconds: float = REDIS_TIMEOUT_SECONDS,
        probe_every_seconds: float = PROBE_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._memory = MemoryCounters(clock)  # `clock`: the memory counters' expiries (tests)
        self._timeout = timeout_seconds
        self._probe_every = probe_every_seconds
        self._windows: RedisStorage | None = None
        self._redis: Any = None
        self._errors: tuple[type[BaseException], ...] = (OSError, TimeoutError)
        self._scripts: dict[str, Any] = {}
        if redis_url is not None:
            # Loaded only with Redis configured: `limits` and the Redis client weigh tens of MB.
            import redis.asyncio
            from limits.aio.storage import RedisStorage
            from limits.errors import StorageError
            from redis.exceptions import RedisError

            self._errors = (OSError, TimeoutError, StorageError, RedisError)
            options: dict[str, Any] = {
                "socket_timeout": timeout_seconds,
                "socket_connect_timeout": timeout_seconds,
            }
            self._windows = RedisStorage(
                "async+" + redis_url,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix="authgate",
                **options,
            )
            self._redis = redis.asyncio.Redis.from_url(redis_url, **options)
            self._scripts = {
                name: self._redis.register_script(source)
                for name, source in (
                    ("incr", _INCR),
                    ("decr", _DECR),
                    ("get", _GET),
                    ("get_many", _GET_MANY),
                    ("reserve", _RESERVE),
                    ("merge", _MERGE),
                )
            }
        self._away = False
        self._probe: asyncio.Task[None] | None = None
        # While Redis is away: each changed counter's count before the outage changed it, and
        # the counters cleared meanwhile.
        self._outage_base: dict[str, int] = {}
        self._outage_cleared: set[str] = set()

    @property
    def owed_to_redis(self) -> int:
        """Counters changed or cleared during a Redis outage, to carry into Redis when it
        is back (none without Redis)."""
        return len(self._outage_base.keys() | self._outage_cleared)

    @property
    def shared(self) -> bool:
        """True when the counters live in Redis (and Redis is reachable as far as we know)."""
        return self._redis is not None and not self._away

    async def hit(self, rate: Rate, *identifiers: str) -> float | None:
        """Count one request against `rate` for `identifiers`: None if allowed, else the
        seconds until the window lets one through again."""

        async def in_redis() -> float | None:
            from limits import RateLimitItemPerSecond
            from limits.aio.strategies import FixedWindowRateLimiter

            item = RateLimitItemPerSecond(rate.amount, rate.seconds)
            limiter = FixedWindowRateLimiter(self._windows)  # type: ignore[arg-type]
            if await limiter.hit(item, *identifiers):
                return None
            stats = await limiter.get_window_stats(item, *identifiers)
            return max(0.0, stats.reset_time - time.time())

        if self.shared:
            with contextlib.suppress(UnavailableError):
                return await self._bounded(in_redis())
        key = rate.key_for(*identifiers)
        return self._memory.hit(key, rate.amount, rate.seconds)

    async def incr(self, key: str, expiry_seconds: int) -> int:
        """Add one to a counter that expires `expiry_seconds` after its first increment."""
        if self.shared:
            with contextlib.suppress(UnavailableError):
                return await self._mirrored("incr", key, expiry_seconds)
        self._note_outage_change(key)
        return self._memory.incr(key, expiry_seconds)

    async def decr(self, key: str) -> None:
        """Take back one increment (a reservation that was not used)."""
        if self.shared:
            with contextlib.suppress(UnavailableError):
                await self._mirrored("decr", key, late=True)
                return
        self._note_outage_change(key)
        self._memory.decr(key)

    async def get(self, key: str) -> int:
        """A counter's value (0 when absent or expired)."""
        if self.shared:
            with contextlib.suppress(UnavailableError):
                return await self._mirrored("get", key)
        return self._memory.get(key)

    async def get_many(self, *keys: str) -> list[int]:
        """Several counters' values, in one round trip."""
        if self.shared:
            with contextlib.suppress(UnavailableError):
                running = self._scripts["get_many"](keys=[KEY_PREFIX + key for key in keys])
                answer = await self._bounded(running)
                return [
                    self._mirror(key, answer[2 * i], answer[2 * i + 1])
                    for i, key in enumerate(keys)
                ]
        return [self._memory.get(key) for key in keys]

    async def reserve(self, lock: str, key: str, expiry_seconds: int) -> int:
        """Unless counter `lock` holds (then 0), add one to counter `key` (expiring as
        `incr`'s) and answer its count: one atomic step."""
        if self.shared:
            with contextlib.suppress(UnavailableError):
                keys = [KEY_PREFIX + lock, KEY_PREFIX + key]
                running = self._scripts["reserve"](keys=keys, args=[expiry_seconds])
                reserved, count, ttl_ms = await self._bounded(running)
                if not reserved:
                    self._mirror(lock, count, ttl_ms)
                    return 0
                return self._mirror(key, count, ttl_ms)
        if self._memory.get(lock) > 0:
            return 0
        self._note_outage_change(key)
        return self._memory.incr(key, expiry_seconds)

    async def clear(self, *keys: str) -> None:
        """Forget counters, in Redis and in memory; while Redis is away, in memory at once and
        in Redis when it is back."""
        for key in keys:
            self._memory.clear(key)
        if self.shared:
            with contextlib.suppress(UnavailableError):
                await self._bounded(self._redis.delete(*(KEY_PREFIX + key for key in keys)))
                return
        if not self._away:
            return  # no Redis: nothing to carry over (kept, every login's keys would pile up)
        for key in keys:
            self._outage_cleared.add(key)
            self._outage_base[key] = 0

    # In Redis or not at all (UnavailableError, also without Redis configured): for a
    # process whose memory serves no request (the CLI).

    async def clear_shared(self, *keys: str) -> None:
        """Forget counters in Redis."""
        if self._redis is None:
            raise UnavailableError
        deleting = self._redis.delete(*(KEY_PREFIX + key for key in keys))
        await self._bounded(deleting, fall_back=False)

    async def incr_shared(self, key: str, expiry_seconds: int) -> int:
        """Add one to a counter in Redis."""
        if self._redis is None:
            raise UnavailableError
        return await self._mirrored("incr", key, expiry_seconds, fall_back=False)

    async def close(self) -> None:
        """Stop the probe and close the connections."""
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        if self._redis is not None:
            with contextlib.suppress(*self._errors):
                await self._redis.aclose()

    # Redis, bounded

    async def _mirrored(
        self, script: str, key: str, *args: object, fall_back: bool = True, late: bool = False
    ) -> int:
        """Run a counter script in Redis and keep what it answers in memory too."""
        running = self._scripts[script](keys=[KEY_PREFIX + key], args=args)
        count, ttl_ms = await self._bounded(running, fall_back=fall_back, late=late)
        return self._mirror(key, count, ttl_ms)

    def _mirror(self, key: str, count: object, ttl_ms: object) -> int:
        """Keep a counter as Redis answered it in memory too (for an outage); its count. Not
        once the outage began (a decrement's late answer): memory's count is the one in force
        then, and it holds what Redis never saw."""
        count, ttl_ms = int(str(count)), int(str(ttl_ms))
        if self._away:
            return count
        if count > 0 and ttl_ms > 0:
            self._memory.put(key, count, ttl_ms / 1000)
        elif count <= 0:
            self._memory.clear(key)
        return count

    async def _bounded(
        self, call: Awaitable[T], *, fall_back: bool = True, late: bool = False
    ) -> T:
        """Await a Redis call for at most the timeout; on any failure raise
        UnavailableError, after marking Redis away (the probe watches for its return)
        when the caller falls back on memory.

        An answer that arrives after another call marked Redis away raises UnavailableError
        too, unless `late` accepts it: from that moment this process counts in memory, and a
        reservation Redis granted from its own count then would come on top of the ones
        memory grants (eight guesses for five, seen under load). So the call counts in memory
        with the rest; Redis counted it too, and the carry-over adds it again: a count in
        flight at the switch is counted twice, never lost. Only a decrement takes its late
        answer (`late`), or it would be taken twice."""
        try:
            answer = await asyncio.wait_for(call, self._timeout)
        except self._errors as error:
            if fall_back:
                self._went_away(error)
            raise UnavailableError from error
        if self._away and fall_back and not late:
            raise UnavailableError
        return answer

    def _went_away(self, error: BaseException) -> None:
        if self._away:
            return
        self._away = True
        log.warning(
            "Redis is unreachable (%s): throttling and lockout count in this process until it"
            " answers again",
            type(error).__name__,
        )
        with contextlib.suppress(RuntimeError):  # no running loop: the next call will retry
            self._probe = asyncio.get_running_loop().create_task(self._watch())

    def _note_outage_change(self, key: str) -> None:
        if self._away:
            self._outage_base.setdefault(key, self._memory.get(key))

    async def _watch(self) -> None:
        """Off every request's path: wait for Redis, carry the outage's counts into it, then
        let calls go to Redis again."""
        while True:
            await asyncio.sleep(self._probe_every)
            try:
                await asyncio.wait_for(self._redis.ping(), self._timeout)
                # The windows' own connections too, or the first hit would find them stale.
                windows = self._windows
                if windows is not None and not await asyncio.wait_for(
                    windows.check(), self._timeout
                ):
                    continue
                await self._carry_over()
            except self._errors:
                continue
            self._away = False  # no await since _carry_over found nothing left: nothing lost
            self._probe = None
            log.warning("Redis answers again: throttling and lockout are shared again")
            return

    async def _carry_over(self) -> None:
        """Clear in Redis what was cleared during the outage, then add the outage's counts,
        until nothing is left (requests keep counting in memory meanwhile)."""
        while self._outage_cleared or self._outage_base:
            cleared, self._outage_cleared = self._outage_cleared, set()
            changes = {
                key: (base, self._memory.get(key), self._memory.remaining(key))
                for key, base in self._outage_base.items()
            }
            self._outage_base = {}
            try:
                if cleared:
                    await asyncio.wait_for(
                        self._redis.delete(*(KEY_PREFIX + key for key in cleared)), self._timeout
                    )
                    cleared = set()
                while changes:
                    key, (base, count, remaining) = next(iter(changes.items()))
                    if count > 0:
                        await asyncio.wait_for(
                            self._scripts["merge"](
                                keys=[KEY_PREFIX + key],
                                args=[count - base, count, max(1, int(remaining * 1000))],
                            ),
                            self._timeout,
                        )
                    del changes[key]
            except self._errors:
                # Not carried yet: again at the next probe (the earliest base spans both).
                self._outage_cleared |= cleared
                for key, (base, _, _) in changes.items():
                    self._outage_base[key] = base
                raise
