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


def test_a_login_locks_after_its_free_failures_and_a_success_starts_over() -> None:
    async def scenario() -> None:
        lockout = Lockout(Counters(), LockoutPolicy(free_failures=3, base_seconds=60))
        for _ in range(2):
            await lockout.failed("username:john")
        assert not await lockout.is_locked("username:john")
        await lockout.succeeded("username:john")
        for _ in range(2):
            await lockout.failed("username:john")
        assert not await lockout.is_locked("username:john")  # the count started over
        await lockout.failed("username:john")
        assert await lockout.is_locked("username:john")
        assert not await lockout.is_locked("username:mary")
        await lockout.unlock("username:john")
        assert not await lockout.is_locked("username:john")

    asyncio.run(scenario())


def test_a_lock_ends_by_itself() -> None:
    async def scenario() -> None:
        lockout = Lockout(Counters(), LockoutPolicy(free_failures=1, base_seconds=1))
        await lockout.failed("username:john")
        assert await lockout.is_locked("username:john")
        await asyncio.sleep(2.1)
        assert not await lockout.is_locked("username:john")

    asyncio.run(scenario())


def test_disabled_lockout_never_locks() -> None:
    async def scenario() -> None:
        lockout = Lockout(Counters(), LockoutPolicy(enabled=False, free_failures=1))
        for _ in range(5):
            await lockout.failed("username:john")
        assert not await lockout.is_locked("username:john")

    asyncio.run(scenario())


class ClearCounting(Counters):
    """Counters that count their clears (the writes a successful login may do)."""

    cleared: int = 0

    async def clear(self, *keys: str) -> None:
        self.cleared += len(keys)
        await super().clear(*keys)


def test_a_success_writes_only_when_there_were_failures_to_forget() -> None:
    async def scenario() -> tuple[int, int]:
        counters = ClearCounting()
        lockout = Lockout(counters, LockoutPolicy(free_failures=3))
        await lockout.succeeded("username:john")  # nothing counted: nothing to clear
        without = counters.cleared
        await lockout.failed("username:john")
        await lockout.succeeded("username:john")
        return without, counters.cleared

    assert asyncio.run(scenario()) == (0, 1)
