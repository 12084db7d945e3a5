"""A pool of asyncpg connections whose every database step is bounded in time, and whose
statement costs no more than the statement: taking an idle connection and giving it back are
plain list operations, no task, no timer, no round trip. Build it in the event loop it serves.

asyncpg's own pool made a statement some eight turns of the event loop (its shielded release a
task, ours around it another for a cancelled caller's sake, the acquire's timer, the inactivity
timer re-armed at every release): most of the server's CPU per statement. Here:

- An idle connection is lent at once (the most recently used first: its socket and the
  server's backend are warm). None idle and room for one more: the caller opens it. The pool
  full: the caller queues, and a connection given back goes straight to the first in the queue.
- Every step shares one deadline (asyncio.timeout): waiting for a connection or opening one
  with the statement that follows, and a transaction's every step. (A single watchdog timer
  for the statements on idle connections saved 7.9k of a statement's 76k instructions under
  uvloop but nothing measurable per answer, and bounded a statement only to 1.25 timeouts.)
- Giving back never talks to the server. asyncpg's reset is a round trip per statement and
  authgate's SQL leaves no session state (test_postgres_driver holds store/sql.py to that); a
  connection still in a transaction (a rollback that failed) or closed is dropped instead.
- A step cancelled or out of time mid-statement terminates its connection: the statement may
  still run, and its state is unknown; closing the socket ends it (the server rolls back), and
  a frozen server would hold a polite cancel or rollback as long as it holds the statement.
  Its place goes to the next in the queue, who opens a fresh connection.
- A connection that died idle (PostgreSQL restarted) is dropped when next taken, so the pool
  reconnects by itself once the server is back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
from asyncpg import Connection

T = TypeVar("T")
# A connection handed to a queued caller, or None: a place freed, for it to open one.
Handoff = asyncio.Future[Connection | None]


class BoundedPool:
    """At most `size` connections to `url`, opened when needed; each query method one step
    within `timeout` seconds (else TimeoutError)."""

    def __init__(self, url: str, *, size: int, timeout: float) -> None:
        self._url = url
        self._size = size
        self._timeout = timeout
        self._idle: list[Connection] = []  # a stack: the last given back is lent first
        self._places = 0  # connections open or being opened, lent or idle
        self._queue: deque[Handoff] = deque()
        self._closed = False
        self._loop = asyncio.get_running_loop()
        # Acquisitions that found every connection of a full pool busy (the metrics').
        self.waits = 0

    @property
    def in_use(self) -> int:
        """Connections lent out now (or being opened for a caller)."""
        return self._places - len(self._idle)

    # Lending and giving back

    def _take_idle(self) -> Connection | None:
        """An idle connection that is still open, lent now; None without one."""
        idle = self._idle
        while idle:
            connection = idle.pop()
            if not connection.is_closed():
                return connection
            self._free_place()  # died idle: the server restarted or dropped it
        return None

    async def _lend(self) -> Connection:
        """A connection when none is idle: a new one if there is room, else the next one given
        back (or a place freed, then a new one). Call within the step's deadline."""
        if self._closed:
            raise asyncpg.InterfaceError("the pool is closed")
        if self._places < self._size:
            self._places += 1
            return await self._open()
        self.waits += 1
        handoff: Handoff = self._loop.create_future()
        self._queue.append(handoff)
        try:
            connection = await handoff
        except BaseException:
            # Out of time or cancelled: leave the queue, or pass on what was handed over
            # meanwhile (a cancel can land after the handoff, before this caller resumed).
            if not handoff.done():
                handoff.cancel()
            elif not handoff.cancelled() and handoff.exception() is None:
                handed = handoff.result()
                if handed is None:
                    self._free_place()
                else:
                    self.give_back(handed)
            raise
        return connection if connection is not None else await self._open()

    async def _open(self) -> Connection:
        """A new connection in a place already counted; the place is freed if it fails."""
        try:
            # No command_timeout: every statement runs within its step's deadline.
            return await asyncpg.connect(self._url, timeout=self._timeout)
        except BaseException:
            self._free_place()
            raise

    def give_back(self, connection: Connection) -> None:
        """A lent connection back: to the first queued caller, else to the idle stack. One that
        is closed, or still in a transaction, is dropped (a terminate: no round trip)."""
        if self._closed or connection.is_closed() or connection.is_in_transaction():
            self.drop(connection)
            return
        queue = self._queue
        while queue:
            handoff = queue.popleft()
            if not handoff.done():  # else its caller left the queue
                handoff.set_result(connection)
                return
        self._idle.append(connection)

    def drop(self, connection: Connection) -> None:
        """Close a lent connection at once (whatever it is doing) and free its place."""
        connection.terminate()
        self._free_place()

    def _free_place(self) -> None:
        queue = self._queue
        while queue:
            handoff = queue.popleft()
            if not handoff.done():
                handoff.set_result(None)  # the place passes to it: it opens a connection
                return
        self._places -= 1

    def _returned(self, connection: Connection, error: BaseException) -> None:
        """A lent connection back after its step, or dropped if the step was cancelled or
        out of time (see above)."""
        if isinstance(error, asyncio.CancelledError | TimeoutError):
            self.drop(connection)
        else:
            self.give_back(connection)

    async def _run(self, step: Callable[[Connection], Awaitable[T]]) -> T:
        """One statement; waiting for a connection and the statement share the deadline."""
        async with asyncio.timeout(self._timeout):
            connection = self._take_idle() or await self._lend()  # none idle once closed
            try:
                result = await step(connection)
            except BaseException as error:
                self._returned(connection, error)
                raise
            self.give_back(connection)
            return result

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        """A lent connection for several steps: acquiring and using it within the timeout."""
        async with asyncio.timeout(self._timeout):
            connection = self._take_idle() or await self._lend()  # none idle once closed
            try:
                yield connection
            except BaseException as error:
                self._returned(connection, error)
                raise
            self.give_back(connection)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection in a transaction, committed at the end, rolled back on an error; out of
        time, the terminated connection rolls it back (a ROLLBACK would wait on a frozen
        server)."""
        async with self.acquire() as connection:
            transaction = connection.transaction()
            await transaction.start()
            try:
                yield connection
            except (asyncio.CancelledError, TimeoutError):
                raise
            except BaseException:
                await transaction.rollback()
                raise
            await transaction.commit()

    # The statements

    async def execute(self, query: str, *args: Any) -> str:
        return await self._run(lambda connection: connection.execute(query, *args))

    async def executemany(self, query: str, args: Iterable[Sequence[Any]]) -> None:
        await self._run(lambda connection: connection.executemany(query, args))

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        return await self._run(lambda connection: connection.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> Any:
        return await self._run(lambda connection: connection.fetchrow(query, *args))

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._run(lambda connection: connection.fetchval(query, *args))

    async def close(self) -> None:
        """Close the idle connections gracefully within the timeout, else cut them; a lent one
        is cut when it comes back, a queued caller told the pool is closed."""
        self._closed = True
        idle, self._idle = self._idle, []
        while self._queue:
            handoff = self._queue.popleft()
            if not handoff.done():
                handoff.set_exception(asyncpg.InterfaceError("the pool is closed"))
        try:
            async with asyncio.timeout(self._timeout):
                await asyncio.gather(*(connection.close() for connection in idle))
        except TimeoutError:
            for connection in idle:
                connection.terminate()
        self._places -= len(idle)
