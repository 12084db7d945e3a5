"""Issue 11 item 5: concurrency buys no extra password verifications.

Ten wrong guesses sent at once, where the lockout lets five through before it locks: only
five passwords are verified (counted by the audit log, which records each verified wrong
password as `wrong_password` and each refused attempt as `locked`), over memory and over
Redis, and the account is locked after them. The same at the core, with asyncio.gather.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from authgate.core import audit
from authgate.core.counters import Counters
from authgate.core.lockout import Lockout, LockoutPolicy
from authgate.core.models import AuditEvent, AuditQuery
from authgate.settings import Settings
from authgate.store import open_store
from tests.faults.proxy import TcpProxy, tcp_proxy, through
from tests.security.helpers import PASSWORD, unique
from tests.support import Api

REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL")
FREE = 5
# The racing requests overlap while they hash: at the real cost, as in production.
pytestmark = pytest.mark.production_argon2
AT_ONCE = 10
COUNTERS = ["memory", "redis"]


def _clean_redis(url: str) -> None:
    """This run's Redis database starts without counters (user ids repeat across tests)."""

    async def clean() -> None:
        import redis.asyncio

        client: Any = redis.asyncio.Redis.from_url(url)
        try:
            keys = [key async for key in client.scan_iter(match="authgate*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    asyncio.run(clean())


def _counters_setting(which: str) -> dict[str, object]:
    if which == "memory":
        return {}
    if REDIS_URL is None:
        pytest.skip("AUTHGATE_TEST_REDIS_URL is not set")
    _clean_redis(REDIS_URL)
    return {"redis_url": REDIS_URL}


def _at_once(send: Callable[[], httpx.Response], times: int) -> list[int]:
    """`times` requests released together from as many threads."""
    start = threading.Barrier(times)
    statuses: list[int] = []

    def one() -> None:
        start.wait()
        statuses.append(send().status_code)

    threads = [threading.Thread(target=one) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def _login_failures(settings: Settings, user_id: int) -> list[AuditEvent]:
    async def read() -> list[AuditEvent]:
        store = open_store(settings.database_url, pool_size=1)
        await store.connect()
        try:
            events = await store.audit_events(AuditQuery(user_id=user_id, event=audit.LOGIN))
        finally:
            await store.close()
        return [e for e in events if e.outcome == audit.FAILURE]

    return asyncio.run(read())


@pytest.mark.parametrize("counters", COUNTERS)
def test_ten_simultaneous_wrong_guesses_verify_only_the_five_the_lockout_allows(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], counters: str
) -> None:
    overrides: dict[str, object] = {
        "throttle_login_per_account": "100/minute",  # the lockout, not the rate, is tested
        "lockout_free_failures": FREE,
        "lockout_base_seconds": 600,
        "lockout_account_max_delay_seconds": 0,
        "audit_flush_seconds": 0,
        **_counters_setting(counters),
    }
    api = serve(**overrides)
    name = unique("target")
    user_id = api.register(name)["id"]

    def guess() -> httpx.Response:
        with httpx.Client(base_url=str(api.http.base_url), timeout=60) as client:
            body = {"username": name, "password": "Wrong-Guess-1"}
            return client.post("/auth/token/login/", json=body)

    assert _at_once(guess, AT_ONCE) == [400] * AT_ONCE
    failures = _login_failures(make_settings(**overrides), user_id)
    reasons = sorted(e.reason or "" for e in failures)
    assert reasons == [audit.LOCKED] * (AT_ONCE - FREE) + [audit.WRONG_PASSWORD] * FREE
    # The five were enough to lock: the right password is refused now, unverified.
    right = api.http.post("/auth/token/login/", json={"username": name, "password": PASSWORD})
    assert right.status_code == 400


@pytest.mark.parametrize("counters", COUNTERS)
def test_gathered_reservations_at_the_core_let_exactly_the_free_ones_through(
    counters: str,
) -> None:
    url = _counters_setting(counters).get("redis_url")

    async def scenario() -> list[bool]:
        shared = Counters(str(url) if url else None)
        lockout = Lockout(shared, LockoutPolicy(free_failures=FREE, base_seconds=600))
        try:
            attempts = await asyncio.gather(
                *(lockout.begin("user:1", "10.0.0.1") for _ in range(50))
            )
            return [attempt.allowed for attempt in attempts]
        finally:
            await shared.close()

    assert sum(asyncio.run(scenario())) == FREE


SWITCH_TIMEOUT = 1.0  # seconds: Redis's timeout in the scenario below
LATE_START = 0.7  # the in-flight reservation's start: its answer has this long after the switch


def test_a_reservation_redis_answers_after_the_switch_to_memory_counts_in_memory() -> None:
    """Under load a Redis call times out while a reservation is still in flight: this process
    switches to counting in memory, and the late Redis answer (its count from Redis, which
    never saw memory's) must not hand out a count memory has handed out already: each of
    the lockout's free attempts once (eight attempts for five, seen under load)."""
    url = _counters_setting("redis").get("redis_url")
    target = urlsplit(str(url))
    with tcp_proxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        counts, late_answered_in = asyncio.run(
            _switch_with_one_in_flight(through(str(url), proxy), proxy)
        )
    assert late_answered_in < SWITCH_TIMEOUT  # Redis answered it in time: the race took place
    assert sorted(counts) == list(range(1, FREE + 2))  # memory's five, then the late one


async def _switch_with_one_in_flight(url: str, proxy: TcpProxy) -> tuple[list[int], float]:
    """Reservation counts: FREE made in memory after the switch, and one sent to Redis before
    it and answered after it; and how long that one took."""
    shared = Counters(url, timeout_seconds=SWITCH_TIMEOUT)
    try:
        await shared.reserve("warm-lock", "warm", 600)  # a connection open, the script loaded
        proxy.freeze()
        first = asyncio.ensure_future(shared.get("unrelated"))  # times out: the switch
        await asyncio.sleep(LATE_START)
        started = time.monotonic()
        late = asyncio.ensure_future(shared.reserve("lock", "failures", 600))
        await first
        assert not shared.shared  # counting in memory now
        in_memory = [await shared.reserve("lock", "failures", 600) for _ in range(FREE)]
        proxy.thaw()  # the late reservation reaches Redis, whose count for it is still 0
        late_count = await late
        return [*in_memory, late_count], time.monotonic() - started
    finally:
        proxy.thaw()
        await shared.close()
