"""store/drivers/bounded_pool.py: a release that runs out of time, PostgreSQL frozen, goes on in
the background within its own bound, and its failure is read: never left for asyncio to log as
"Task exception was never retrieved" (a traceback in the service's log during an outage).

PostgreSQL is frozen through a TCP proxy the test starts: the shared server is never touched.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from authgate.store.drivers.bounded_pool import BoundedPool
from tests.faults.proxy import TcpProxy, tcp_proxy, through

TIMEOUT = 0.5


def test_a_release_out_of_time_leaves_no_unread_failure(postgres_migrated: str) -> None:
    target = urlsplit(postgres_migrated)
    with tcp_proxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        unread = asyncio.run(_release_while_frozen(through(postgres_migrated, proxy), proxy))
    assert unread == []


async def _release_while_frozen(url: str, proxy: TcpProxy) -> list[dict[str, Any]]:
    """What asyncio reported of unread task failures around a release cut by the deadline."""
    unread: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, context: unread.append(context))
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1, timeout=TIMEOUT)
    bounded = BoundedPool(pool, TIMEOUT)
    try:
        with pytest.raises(TimeoutError):
            await _use_then_freeze(bounded, proxy)
        # The release went on in the background: let its own bound run out, then let asyncio
        # judge every finished task.
        await asyncio.sleep(TIMEOUT * 3)
        gc.collect()
        await asyncio.sleep(0)
    finally:
        proxy.thaw()
        pool.terminate()
    return unread


async def _use_then_freeze(bounded: BoundedPool, proxy: TcpProxy) -> None:
    async with bounded.acquire() as connection:
        await connection.execute("SELECT 1")
        proxy.freeze()  # the release's reset now waits: the deadline runs out in it
