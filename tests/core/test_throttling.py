"""Rate limits per client and per account, in memory and in the machine's real Redis."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from authgate.core.counters import Counters
from authgate.core.errors import ThrottledError
from authgate.core.throttling import LOGIN, Rule, Throttle

REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="AUTHGATE_TEST_REDIS_URL is not set")


def _throttle(counters: Counters, per_client: str, per_account: str | None = None) -> Throttle:
    return Throttle(counters, {LOGIN: Rule.parse(per_client, per_account)}, enabled=True)


async def _allowed(throttle: Throttle, n: int, *, client: str | None, account: str | None) -> int:
    """How many of n attempts get through."""
    allowed = 0
    waits = []
    for _ in range(n):
        try:
            await throttle.hit(LOGIN, client=client, account=account)
            allowed += 1
        except ThrottledError as error:
            waits.append(error.retry_after)
    assert all(1 <= wait <= 60 for wait in waits), waits
    return allowed


def test_each_client_and_each_account_has_its_own_budget() -> None:
    async def scenario() -> None:
        throttle = _throttle(Counters(), "3/minute", "2/minute")
        assert await _allowed(throttle, 2, client="10.0.0.1", account="a") == 2
        assert await _allowed(throttle, 1, client="10.0.0.2", account="a") == 0  # a's budget
        assert await _allowed(throttle, 3, client="10.0.0.1", account="b") == 1  # 3 per client
        assert await _allowed(throttle, 3, client="10.0.0.3", account="c") == 2

    asyncio.run(scenario())


def test_no_client_and_disabled_are_not_limited() -> None:
    async def scenario() -> None:
        throttle = _throttle(Counters(), "1/minute")
        assert await _allowed(throttle, 3, client=None, account=None) == 3  # e.g. the CLI
        off = Throttle(Counters(), {LOGIN: Rule.parse("1/minute")}, enabled=False)
        assert await _allowed(off, 3, client="10.0.0.1", account=None) == 3

    asyncio.run(scenario())


@needs_redis
def test_two_processes_share_the_budget_through_redis() -> None:
    """Two Counters on one Redis stand in for two nodes: together they get the limit once."""

    async def scenario() -> None:
        client = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
        first = _throttle(Counters(REDIS_URL), "4/minute")
        second = _throttle(Counters(REDIS_URL), "4/minute")
        assert first._counters.shared
        got = await _allowed(first, 3, client=client, account=None)
        got += await _allowed(second, 3, client=client, account=None)
        assert got == 4

    asyncio.run(scenario())


def test_an_unreachable_redis_degrades_to_counting_in_the_process() -> None:
    async def scenario() -> None:
        counters = Counters("redis://127.0.0.1:1/0")  # nothing listens on port 1
        throttle = _throttle(counters, "2/minute")
        assert await _allowed(throttle, 4, client="10.0.0.1", account=None) == 2
        assert not counters.shared
        await counters.clear("cleared during the outage")  # for Redis when it is back
        assert counters.owed_to_redis == 1

    asyncio.run(scenario())


def test_without_redis_nothing_is_kept_to_carry_over() -> None:
    # Each successful login clears its lockout counters: without Redis there is no outage to
    # remember them for, and remembering them grew with every account and address forever.
    async def scenario() -> None:
        counters = Counters()
        for i in range(100):
            await counters.incr(f"failures/{i}", 60)
            await counters.clear(f"failures/{i}")
        assert counters.owed_to_redis == 0
        assert await counters.get("failures/1") == 0

    asyncio.run(scenario())


def test_memory_counters_reset_with_their_window_and_are_swept() -> None:
    from authgate.core.counters import SWEEP_EVERY_SECONDS, MemoryCounters

    now = [0.0]
    counters = MemoryCounters(clock=lambda: now[0])
    assert [counters.hit("k", 2, 10) for _ in range(3)] == [None, None, 10.0]
    now[0] = 10.0
    assert counters.hit("k", 2, 10) is None  # a new window
    counters.incr("other", 5)
    now[0] = SWEEP_EVERY_SECONDS + 1
    counters.incr("fresh", 60)  # this touch sweeps the expired ones
    assert len(counters) == 1
    assert (counters.get("k"), counters.get("fresh")) == (0, 1)


def test_rates_are_read_as_the_settings_write_them() -> None:
    from authgate.rates import Rate, parse_rate

    assert parse_rate("30/minute") == Rate(30, 60)
    assert parse_rate(" 5 / hours ") == Rate(5, 3600)
    for bad in ("lots", "0/minute", "5/fortnight", "5"):
        with pytest.raises(ValueError, match="not a rate"):
            parse_rate(bad)
