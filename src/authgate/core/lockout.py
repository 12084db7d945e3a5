"""Account lockout after repeated failed logins: a growing delay, then a hard stop.

After `free_failures` consecutive failures for one login, each further failure locks it for
`base_seconds`, doubling per failure up to `max_seconds`; after `max_failures` (NIST SP
800-63B: at most 100) it stays locked until the failure count expires (`reset_seconds` after
the first failure) or staff unlock it. A success clears the count. While locked, every attempt
fails exactly like a wrong password, the right password included, and does not count.

Keyed by the login as sent (normalised), so an unknown login behaves like a known one.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from authgate.core.counters import Counters


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """When failures lock a login, and for how long."""

    enabled: bool = True
    free_failures: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 900.0
    max_failures: int = 100
    reset_seconds: int = 86_400

    def delay(self, failures: int) -> int:
        """Seconds a login stays locked after its `failures`-th consecutive failure."""
        if failures >= self.max_failures:
            return self.reset_seconds
        if failures < self.free_failures:
            return 0
        growth = min(failures - self.free_failures, 32)  # 2**32 s is far past any max
        seconds: float = min(self.base_seconds * 2**growth, self.max_seconds)
        return math.ceil(seconds)


class Lockout:
    """Records failures per login and tells whether a login is locked."""

    def __init__(self, counters: Counters, policy: LockoutPolicy) -> None:
        self._counters = counters
        self._policy = policy

    async def is_locked(self, login: str) -> bool:
        """True while the login is locked."""
        if not self._policy.enabled:
            return False
        return await self._counters.get(_lock_key(login)) > 0

    async def failed(self, login: str) -> int:
        """Record a failed attempt (of a login that was not locked); returns the seconds the
        login is now locked for (0: not locked)."""
        if not self._policy.enabled:
            return 0
        failures = await self._counters.incr(_failures_key(login), self._policy.reset_seconds)
        delay = self._policy.delay(failures)
        if delay > 0:
            await self._counters.incr(_lock_key(login), delay)
        return delay

    async def succeeded(self, login: str) -> None:
        """A correct password: the consecutive failures start again from zero."""
        if not self._policy.enabled:
            return
        key = _failures_key(login)
        # Most logins have no failures to forget: reading first spares them a write (in Redis
        # a DEL, replicated and logged, on every successful login).
        if await self._counters.get(key) > 0:
            await self._counters.clear(key)

    async def unlock(self, login: str) -> None:
        """Staff lift a lock at once (and the failures that led to it)."""
        await self._counters.clear(_failures_key(login), _lock_key(login))


def _failures_key(login: str) -> str:
    return f"lockout/failures/{_digest(login)}"


def _lock_key(login: str) -> str:
    return f"lockout/locked/{_digest(login)}"


def _digest(login: str) -> str:
    # Bounded keys, and no email addresses in plain text in Redis.
    return hashlib.sha256(login.encode()).hexdigest()[:32]
