"""store/drivers/postgres.py: a statement is one round trip. asyncpg's default reset, run when
a connection goes back to the pool, is a second one (advisory locks, cursors, LISTEN, SET); the
driver's pool skips it, which is sound only while authgate's SQL takes none of that session
state, so store/sql.py is held to it here."""

from __future__ import annotations

import asyncio
import re

from authgate.store import sql
from authgate.store.drivers.postgres import PostgresDriver

# Session state a pooled connection would carry to its next borrower (a transaction left open
# is rolled back by asyncpg whatever the reset).
SESSION_STATE = re.compile(
    r"^\s*(SET|RESET|LISTEN|DECLARE|PREPARE|LOCK)\b|pg_advisory|set_config|\bTEMP(ORARY)?\s+TABLE",
    re.IGNORECASE,
)


def _queries() -> list[str]:
    return [v for k, v in vars(sql).items() if k.isupper() and isinstance(v, str)]


def test_the_stores_sql_leaves_no_session_state() -> None:
    queries = _queries()
    assert len(queries) > 50  # the module's statements were found
    assert [q for q in queries if SESSION_STATE.search(q)] == []


def test_the_check_would_see_session_state() -> None:
    assert SESSION_STATE.search("SET statement_timeout = 0")
    assert SESSION_STATE.search("SELECT pg_advisory_lock(1)")
    assert not SESSION_STATE.search(sql.TOUCH_TOKEN)  # UPDATE ... SET is no session state


def test_a_statement_is_one_round_trip(postgres_migrated: str) -> None:
    async def statements_per_call() -> int:
        driver = PostgresDriver(postgres_migrated, pool_size=1)
        await driver.connect()
        try:
            await driver.fetch_one("SELECT 1")
            async with driver._pool.acquire() as connection:  # the one connection
                protocol = connection._protocol  # asyncpg counts its statements
            before = protocol.queries_count
            for _ in range(10):
                await driver.fetch_one("SELECT 1")
            return int(protocol.queries_count - before) // 10
        finally:
            await driver.close()

    assert asyncio.run(statements_per_call()) == 1
