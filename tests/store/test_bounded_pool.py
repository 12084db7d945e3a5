"""store/drivers/bounded_pool.py: the bound on connections, every step within the timeout, and
a step cut short (out of time, cancelled) never leaking its connection, nor handing the next
borrower one mid-statement or mid-transaction; no failure left unread for asyncio to log as
"Task exception was never retrieved" (a traceback in the service's log during an outage); a
connection that died idle replaced.

PostgreSQL is frozen through a TCP proxy the test starts, and a dead connection is one of the
pool's own whose backend the test ends: the shared server is never touched.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from authgate.store.drivers.bounded_pool import BoundedPool
from tests.faults.proxy import TcpProxy, tcp_proxy, through

TIMEOUT = 0.5

pytestmark = pytest.mark.postgres


def _run_pool(url: str, size: int, scenario: Callable[[BoundedPool], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        pool = BoundedPool(url, size=size, timeout=TIMEOUT)
        try:
            return await scenario(pool)
        finally:
            await pool.close()

    return asyncio.run(run())


def test_a_statement_out_of_time_leaves_no_unread_failure(postgres_migrated: str) -> None:
    target = urlsplit(postgres_migrated)
    with tcp_proxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        unread, in_use, after = asyncio.run(
            _statement_while_frozen(through(postgres_migrated, proxy), proxy)
        )
    assert unread == []
    assert in_use == 0  # the connection that ran out of time is not lent out, nor kept
    assert after == 1  # and the pool works again once the server answers


async def _statement_while_frozen(url: str, proxy: TcpProxy) -> tuple[list[Any], int, int]:
    """What asyncio reported of unread task failures around a statement cut by the deadline,
    the connections in use after it, and a statement's answer once thawed."""
    unread: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: unread.append(context))
    pool = BoundedPool(url, size=1, timeout=TIMEOUT)
    try:
        assert await pool.fetchval("SELECT 1") == 1  # the connection is open and idle
        proxy.freeze()
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await pool.fetchval("SELECT 1")
        assert asyncio.get_running_loop().time() - started < TIMEOUT * 2
        # Whatever went on in the background (asyncpg's cancel request): let its bounds run
        # out, then let asyncio judge every finished task.
        await asyncio.sleep(TIMEOUT * 3)
        gc.collect()
        await asyncio.sleep(0)
        in_use = pool.in_use
        proxy.thaw()
        return unread, in_use, await pool.fetchval("SELECT 1")
    finally:
        proxy.thaw()
        await pool.close()


def test_a_cancelled_statement_does_not_leak_its_connection(postgres_migrated: str) -> None:
    async def scenario(pool: BoundedPool) -> tuple[bool, int, int]:
        assert await pool.fetchval("SELECT 1") == 1
        async with pool.acquire() as connection:
            first = connection
        sleeping = asyncio.create_task(pool.execute("SELECT pg_sleep(10)"))
        await asyncio.sleep(0.2)
        sleeping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sleeping
        # Its one place is free again, for a fresh connection: the cancelled one was cut.
        return first.is_closed(), pool.in_use, await pool.fetchval("SELECT 2")

    cut, in_use, answer = _run_pool(postgres_migrated, 1, scenario)
    assert cut
    assert in_use == 0
    assert answer == 2


def test_a_cancelled_transaction_is_neither_committed_nor_lent_again(
    postgres_migrated: str,
) -> None:
    async def scenario(pool: BoundedPool) -> tuple[bool, int]:
        await pool.execute("CREATE TEMP TABLE IF NOT EXISTS bounded_pool_t (n int)")

        async def write_then_hang() -> None:
            async with pool.transaction() as connection:
                await connection.execute("INSERT INTO bounded_pool_t VALUES (1)")
                await connection.execute("SELECT pg_sleep(10)")

        task = asyncio.create_task(write_then_hang())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with pool.acquire() as connection:
            in_transaction = connection.is_in_transaction()
            # A temporary table is the connection's own: gone with the one that was cut.
            exists = await connection.fetchval("SELECT to_regclass('pg_temp.bounded_pool_t')")
        return in_transaction, 0 if exists is None else 1

    in_transaction, table = _run_pool(postgres_migrated, 1, scenario)
    assert not in_transaction
    assert table == 0  # a fresh connection: the cut one took its transaction with it


def test_connections_stay_within_the_bound_and_pass_to_the_queue(postgres_migrated: str) -> None:
    async def scenario(pool: BoundedPool) -> tuple[list[int], int, int, int]:
        most = 0

        async def one(n: int) -> int:
            nonlocal most
            answer = await pool.fetchval("SELECT $1::int FROM pg_sleep(0.05)", n)
            most = max(most, pool.in_use)
            return int(answer)

        answers = await asyncio.gather(*(one(n) for n in range(10)))
        return answers, most, pool.waits, pool.in_use

    answers, most, waits, in_use = _run_pool(postgres_migrated, 2, scenario)
    assert answers == list(range(10))
    assert most == 2
    assert waits == 8  # all but the first two found both connections busy
    assert in_use == 0


@pytest.mark.parametrize("handed_over", [False, True])
def test_a_caller_that_leaves_the_queue_loses_no_connection(
    postgres_migrated: str, handed_over: bool
) -> None:
    """Cancelled (or out of time: the same path) while queued; or just after the connection
    was handed to it, before it resumed: the connection goes back, to be lent again."""

    async def scenario(pool: BoundedPool) -> tuple[int, bool, int]:
        async with pool.acquire() as connection:
            held = connection
            waiter = asyncio.create_task(pool.fetchval("SELECT 1"))
            await asyncio.sleep(0.05)  # queued
            if not handed_over:
                waiter.cancel()
        waiter.cancel()  # a no-op if done; else lands after the handoff
        with pytest.raises(asyncio.CancelledError):
            await waiter
        async with pool.acquire() as connection:
            same = connection is held
        return pool.in_use, same, await pool.fetchval("SELECT 3")

    in_use, same, answer = _run_pool(postgres_migrated, 1, scenario)
    assert in_use == 0
    assert same  # given back whole, not dropped
    assert answer == 3


def test_a_connection_that_died_idle_is_replaced(postgres_migrated: str) -> None:
    async def scenario(pool: BoundedPool) -> tuple[bool, int]:
        backend = await pool.fetchval("SELECT pg_backend_pid()")
        async with pool.acquire() as connection:
            idle = connection
        ender = await asyncpg.connect(postgres_migrated)
        try:
            await ender.fetchval("SELECT pg_terminate_backend($1)", backend)
        finally:
            await ender.close()
        await asyncio.sleep(0.2)  # the pool's connection hears of it
        return idle.is_closed(), await pool.fetchval("SELECT pg_backend_pid()") != backend

    closed, fresh = _run_pool(postgres_migrated, 1, scenario)
    assert closed
    assert fresh


def test_a_closed_pool_lends_nothing(postgres_migrated: str) -> None:
    async def scenario() -> None:
        pool = BoundedPool(postgres_migrated, size=1, timeout=TIMEOUT)
        await pool.fetchval("SELECT 1")
        await pool.close()
        with pytest.raises(asyncpg.InterfaceError):
            await pool.fetchval("SELECT 1")

    asyncio.run(scenario())


def test_a_slow_statement_on_an_idle_connection_is_cut_in_time(postgres_migrated: str) -> None:
    async def scenario(pool: BoundedPool) -> tuple[float, int, int]:
        assert await pool.fetchval("SELECT 1") == 1  # the connection is open and idle
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await pool.execute("SELECT pg_sleep(3)")
        took = asyncio.get_running_loop().time() - started
        return took, pool.in_use, await pool.fetchval("SELECT 4")

    took, in_use, answer = _run_pool(postgres_migrated, 1, scenario)
    assert TIMEOUT <= took < TIMEOUT * 2  # its own deadline (with room for a loaded machine)
    assert in_use == 0
    assert answer == 4
