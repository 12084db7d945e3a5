"""Account lockout after repeated failed password checks, without a lever to lock the owner out.

Two scopes (docs/security.md, "Lockout and its outages"):

- **Per account and client address**: after `free_failures` consecutive failures from one
  address, each further attempt from it locks that address out of that account for
  `base_seconds`, doubling per failure up to `max_seconds`; after `max_failures` (NIST SP
  800-63B: at most 100) until the count expires (`reset_seconds` after the first failure) or
  staff unlock it. An attacker hammering from their addresses locks only those addresses.
- **Per account, across addresses**: the failures of every address slow each further attempt
  at the account by a delay that grows the same way but never exceeds `account_max_seconds`,
  and never refuses: the owner always gets in, at worst that much later.

A success from an address forgets that address's failures and the account's. Staff unlocking
and a completed password reset (proof of owning the email) forget every address's.

Attempts are reserved before the password is verified (an atomic increment, in Redis as in
memory), so however many arrive at once, at most `free_failures` verifications run before the
lock, and one per lock after it. While locked, an attempt is refused without a verification
and does not count; the caller answers it exactly like a wrong password.

Keyed by the account (or the login as sent, normalised, for an unknown one, so that an unknown
login behaves like a known one).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from authgate.core.counters import Counters


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """When failures lock an address out of an account, and how long attempts are slowed."""

    enabled: bool = True
    free_failures: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 900.0
    max_failures: int = 100
    reset_seconds: int = 86_400
    account_max_seconds: float = 5.0

    def delay(self, failures: int) -> int:
        """Seconds an address stays locked out after its `failures`-th consecutive failure."""
        if failures >= self.max_failures:
            return self.reset_seconds
        if failures < self.free_failures:
            return 0
        return math.ceil(min(self._growing(failures), self.max_seconds))

    def account_delay(self, failures: int) -> float:
        """Seconds every attempt at an account waits after `failures` failures from any
        address: growing as `delay`, bounded by `account_max_seconds`."""
        if failures < self.free_failures:
            return 0.0
        return min(self._growing(failures), self.account_max_seconds)

    def _growing(self, failures: int) -> float:
        growth = min(failures - self.free_failures, 32)  # 2**32 s is far past any max
        return float(self.base_seconds * 2**growth)


@dataclass(frozen=True, slots=True)
class Attempt:
    """A reserved password check: whether it may run, after how long a wait, and whether it
    took a lock (so that its failure is a lockout worth auditing)."""

    allowed: bool
    wait_seconds: float = 0.0
    locks: bool = False
    # The counters of the (account, generation, address) it was counted under.
    failures_key: str = ""
    lock_key: str = ""
    account_failures: int = 0  # the account-wide failures when it was reserved


FREE = Attempt(allowed=True)
REFUSED = Attempt(allowed=False)


class Lockout:
    """Reserves password checks per account and address, and records how they went."""

    def __init__(
        self,
        counters: Counters,
        policy: LockoutPolicy,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._counters = counters
        self._policy = policy
        self._sleep = sleep

    async def begin(self, account: str, client: str | None) -> Attempt:
        """Reserve one password check at `account` from `client`: REFUSED while that address
        is locked out (or another check holds the lock it would take)."""
        if not self._policy.enabled:
            return FREE
        generation, account_failures = await self._counters.get_many(*_account_keys(account))
        # Every address's keys name the generation: unlocking starts a new one.
        failures_key, lock_key = _pair_keys(f"{account}\0{generation}\0{client or ''}")
        number = await self._counters.reserve(lock_key, failures_key, self._policy.reset_seconds)
        if number == 0:
            return REFUSED
        locks = number >= self._policy.free_failures
        # From the last free failure on, each check takes the lock its failure would set,
        # before it runs: one at a time, whatever the concurrency.
        if locks and await self._counters.incr(lock_key, self._policy.delay(number)) > 1:
            await self._counters.decr(failures_key)
            return REFUSED
        delay = self._policy.account_delay(account_failures)
        return Attempt(
            True,
            delay,
            locks,
            failures_key=failures_key,
            lock_key=lock_key,
            account_failures=account_failures,
        )

    async def wait(self, attempt: Attempt) -> None:
        """The account-wide delay of an attempt, before its check runs."""
        if attempt.wait_seconds > 0:
            await self._sleep(attempt.wait_seconds)

    async def failed(self, account: str) -> None:
        """A reserved check failed: it counts towards the account-wide delay too (its
        address's count and lock were taken when it was reserved)."""
        if self._policy.enabled:
            await self._counters.incr(_account_key(account), self._policy.reset_seconds)

    async def succeeded(self, account: str, attempt: Attempt) -> None:
        """The right password: its address's failures (its reservation included) and the
        account's are forgotten, in one write. What the attempt saw when it was reserved
        says which exist: a lock there was none of, the attempt did not take."""
        if not self._policy.enabled or not attempt.failures_key:
            return
        keys = [attempt.failures_key]
        if attempt.locks:
            keys.append(attempt.lock_key)
        if attempt.account_failures > 0:
            keys.append(_account_key(account))
        await self._counters.clear(*keys)

    async def unlock(self, account: str, *, shared_only: bool = False) -> None:
        """Forget every address's failures and locks at this account (staff, or a completed
        password reset). `shared_only`: in Redis or not at all (UnavailableError),
        for a process whose memory serves no request (the CLI)."""
        # The generation outlives every key named after the previous one (at most
        # reset_seconds); when it expires in turn, the keys named after it are forgotten
        # early, which can only lift a lock (once, days after an unlock).
        generation = _generation_key(account)
        if shared_only:
            await self._counters.clear_shared(_account_key(account))
            await self._counters.incr_shared(generation, 2 * self._policy.reset_seconds)
            return
        await self._counters.clear(_account_key(account))
        await self._counters.incr(generation, 2 * self._policy.reset_seconds)


def _pair_keys(pair: str) -> tuple[str, str]:
    """The failures and lock counters of an (account, generation, address)."""
    name = _digest(pair)
    return f"lockout/failures/{name}", f"lockout/locked/{name}"


def _account_keys(account: str) -> tuple[str, str]:
    """The generation and account-wide failures counters of an account."""
    name = _digest(account)
    return f"lockout/generation/{name}", f"lockout/account/{name}"


def _account_key(account: str) -> str:
    return _account_keys(account)[1]


def _generation_key(account: str) -> str:
    return _account_keys(account)[0]


def _digest(text: str) -> str:
    # Bounded keys, and no email or client addresses in plain text in Redis.
    return hashlib.sha256(text.encode()).hexdigest()[:32]
