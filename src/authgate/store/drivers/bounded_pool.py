"""asyncpg's pool with every database step bounded by one deadline.

asyncpg bounds a query (command_timeout) and opening a connection, but not waiting for a pooled
connection, nor handing it back: releasing resets the connection with a round trip of its own,
unbounded unless the acquire was. With PostgreSQL frozen (the socket open, nothing answering),
a request then waited for a busy pool behind queries that were timing out one by one, and then
for their resets. Here acquiring, the queries and releasing share AUTHGATE_DATABASE_TIMEOUT_SECONDS,
and a connection whose step ran out is terminated, not reused: its state is unknown, and a
frozen server would hold a polite cancel or reset as long as it holds the query.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg


class BoundedPool:
    """The pool's query methods, each one step within `timeout` seconds (else TimeoutError)."""

    def __init__(self, pool: asyncpg.Pool, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout
        # Acquisitions that found every connection of a full pool busy (the metrics').
        self.waits = 0
        self._releasing: set[asyncio.Future[None]] = set()

    @property
    def in_use(self) -> int:
        """Connections lent out now."""
        return int(self._pool.get_size() - self._pool.get_idle_size())

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; acquiring it, using it and releasing it within the timeout."""
        pool = self._pool
        if pool.get_idle_size() == 0 and pool.get_size() >= pool.get_max_size():
            self.waits += 1
        async with asyncio.timeout(self._timeout):
            connection = await self._pool.acquire()
            try:
                yield connection
            except asyncio.CancelledError:
                # Out of time (asyncio.timeout cancels, then raises TimeoutError), or the
                # request was cancelled: the query may still run. Closing the socket ends it
                # (the server rolls back) and the pool opens a fresh connection when needed.
                connection.terminate()
                raise
            finally:
                await self._release(connection)

    async def _release(self, connection: asyncpg.Connection) -> None:
        """Hand the connection back. Out of time here, the release goes on in the background,
        bounded too, and terminates the connection if it cannot reset it. asyncpg shields its
        own release, but a cancelled caller would leave that inner task's failure (a frozen
        server: TimeoutError, the connection already terminated) unread, which asyncio logs as
        a traceback; so the release runs as a task of ours whose outcome is always read."""
        release = asyncio.ensure_future(self._pool.release(connection, timeout=self._timeout))
        self._releasing.add(release)  # asyncio keeps only a weak reference to a task
        release.add_done_callback(self._released)
        await asyncio.shield(release)

    def _released(self, release: asyncio.Future[None]) -> None:
        self._releasing.discard(release)
        if not release.cancelled():
            release.exception()  # read: the caller that awaited it raised it, or has gone

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection in a transaction, committed at the end, rolled back on an error; out of
        time, the terminated connection rolls it back (a ROLLBACK would wait on a frozen
        server)."""
        async with self.acquire() as connection:
            transaction = connection.transaction()
            await transaction.start()
            try:
                yield connection
            except asyncio.CancelledError:
                raise
            except BaseException:
                await transaction.rollback()
                raise
            await transaction.commit()

    async def execute(self, query: str, *args: Any) -> str:
        async with self.acquire() as connection:
            return await connection.execute(query, *args)  # type: ignore[no-any-return]

    async def executemany(self, query: str, args: Iterable[Sequence[Any]]) -> None:
        async with self.acquire() as connection:
            await connection.executemany(query, args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        async with self.acquire() as connection:
            return await connection.fetch(query, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: str, *args: Any) -> Any:
        async with self.acquire() as connection:
            return await connection.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.acquire() as connection:
            return await connection.fetchval(query, *args)

    async def close(self) -> None:
        """Close gracefully within the timeout, else cut every connection."""
        try:
            await asyncio.wait_for(self._pool.close(), self._timeout)
        except TimeoutError:
            self._pool.terminate()
