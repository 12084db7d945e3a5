"""Lockout after repeated failures: growing delays, the NIST cap, clearing, and unlocking."""

from __future__ import annotations

import asyncio

from authgate.core.counters import Counters
from authgate.core.lockout import Lockout, LockoutPolicy


def test_the_delay_grows_from_the_free_failures_and_stops_at_the_cap() -> None:
    policy = LockoutPolicy(free_failures=5, base_seconds=1, max_seconds=900, max_failures=100)
    delays = [policy.delay(n) for n in range(1, 17)]
    assert delays[:4] == [0, 0, 0, 0]
    assert delays[4:11] == [1, 2, 4, 8, 16, 32, 64]
    assert policy.delay(15) == 900  # 1024 capped
    assert policy.delay(99) == 900
    assert policy.delay(100) == policy.reset_seconds  # NIST: no more than 100 failures


async def _fail(lockout: Lockout, account: str, client: str = "10.0.0.1") -> bool:
    """One failed check at `account` from `client`; False when refused as locked out."""
    attempt = await lockout.begin(account, client)
    if attempt.allowed:
        await lockout.failed(account)
    return attempt.allowed


async def _locked(lockout: Lockout, account: str, client: str = "10.0.0.1") -> bool:
    """Whether a check would be refused now (a successful one, so nothing stays counted)."""
    attempt = await lockout.begin(account, client)
    if attempt.allowed:
        await lockout.succeeded(account, attempt)
    return not attempt.allowed


def test_a_login_locks_after_its_free_failures_and_a_success_starts_over() -> None:
    async def scenario() -> None:
        lockout = Lockout(Counters(), LockoutPolicy(free_failures=3, base_seconds=60))
        for _ in range(2):
            await _fail(lockout, "username:john")
        await _locked(lockout, "username:john")  # a success
        for _ in range(2):
            await _fail(lockout, "username:john")
        assert await _fail(lockout, "username:john")  # the count started over: third is free
        assert not await _fail(lockout, "username:john")  # now locked out
        assert not await _locked(lockout, "username:mary")
        assert not await _locked(lockout, "username:john", "10.0.0.2")  # another address
        await lockout.unlock("username:john")
        assert not await _locked(lockout, "username:john")

    asyncio.run(scenario())


def test_a_lock_ends_by_itself() -> None:
    seconds = [1000.0]  # the counters' monotonic clock, moved by the test

    async def scenario() -> None:
        counters = Counters(clock=lambda: seconds[0])
        lockout = Lockout(counters, LockoutPolicy(free_failures=1, base_seconds=1))
        await _fail(lockout, "username:john")
        assert not await _fail(lockout, "username:john")
        seconds[0] += 2.1
        assert await _fail(lockout, "username:john")

    asyncio.run(scenario())


def test_disabled_lockout_never_locks() -> None:
    async def scenario() -> None:
        lockout = Lockout(Counters(), LockoutPolicy(enabled=False, free_failures=1))
        assert all([await _fail(lockout, "username:john") for _ in range(5)])

    asyncio.run(scenario())


class ClearCounting(Counters):
    """Counters that count the keys they clear (the writes a successful login may do)."""

    cleared: int = 0

    async def clear(self, *keys: str) -> None:
        self.cleared += len(keys)
        await super().clear(*keys)


def test_a_success_clears_only_what_there_is_to_forget() -> None:
    async def scenario() -> tuple[int, int]:
        counters = ClearCounting()
        lockout = Lockout(counters, LockoutPolicy(free_failures=3))
        await _locked(lockout, "username:john")  # only its own reservation to give back
        without = counters.cleared
        await _fail(lockout, "username:john")
        await _locked(lockout, "username:john")  # and the account-wide failure
        return without, counters.cleared - without

    assert asyncio.run(scenario()) == (1, 2)
