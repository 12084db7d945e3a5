"""The PostgreSQL pool's figures for the metrics (docs/metrics.md): connections in use, and
acquisitions that found a full pool busy."""

from __future__ import annotations

import asyncio

import pytest

from authgate.metrics import Pooled
from authgate.store import open_store
from tests.support import run


@pytest.mark.postgres
def test_pool_usage_counts_connections_in_use_and_waits(postgres_migrated: str) -> None:
    async def scenario() -> list[tuple[int, int]]:
        store = open_store(postgres_migrated, pool_size=1, timeout_seconds=5)
        assert isinstance(store, Pooled)
        await store.connect()
        seen = [store.pool_usage()]
        try:
            pool = store._driver._pool  # type: ignore[attr-defined]
            async with pool.acquire():
                seen.append(store.pool_usage())
                # The only connection is lent out: the next acquisition waits for it.
                waiting = asyncio.create_task(pool.fetchval("SELECT 1"))
                await asyncio.sleep(0)
                seen.append(store.pool_usage())
            assert await waiting == 1
            seen.append(store.pool_usage())
        finally:
            await store.close()
        return seen

    before, held, queued, after = run(scenario())
    assert before == (0, 0)
    assert held == (1, 0)
    assert queued == (1, 1)
    assert after == (0, 1)


def test_sqlite_has_no_pool() -> None:
    assert not isinstance(open_store("sqlite:///:memory:"), Pooled)
