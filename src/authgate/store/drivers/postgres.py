"""The PostgreSQL driver, on asyncpg connections in a pool whose every step is bounded
(drivers/bounded_pool.py).

store/sql.py's :name parameters become $n once per query text (cached); a call then only
picks its values in that order. A server away, dropping the connection or out of time
(store/unavailable.py) leaves as UnavailableError.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, NoReturn

import asyncpg

from authgate.store import driver
from authgate.store.driver import NO_PARAMS, Params, Row, Step
from authgate.store.drivers.bounded_pool import BoundedPool
from authgate.store.sql import Dialect
from authgate.store.unavailable import raise_outage

_PARAMETER = re.compile(r"(?<!:):([a-z_]+)")


@cache
def _positional(query: str) -> tuple[str, tuple[str, ...]]:
    """`... :a ... :b ... :a` -> (`... $1 ... $2 ... $1`, ("a", "b"))."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PARAMETER.sub(number, query), tuple(names)


def _args(query: str, params: Params) -> tuple[str, list[object]]:
    text, names = _positional(query)
    return text, [params[name] for name in names]


def _count(status: str) -> int:
    """How many rows a command's status (`UPDATE 1`, `INSERT 0 1`, `DELETE 3`) says it changed."""
    return int(status.rpartition(" ")[2])


def _integrity(error: asyncpg.IntegrityConstraintViolationError) -> NoReturn:
    """asyncpg's integrity errors as the driver interface's; any other (a bug) as it is."""
    if isinstance(error, asyncpg.UniqueViolationError):
        raise driver.UniqueKeyTakenError(error.constraint_name or "") from error
    if isinstance(error, asyncpg.ForeignKeyViolationError):
        raise driver.RowGoneError(str(error)) from error
    raise error


async def _run(connection: asyncpg.Connection | BoundedPool, step: Step) -> Row | None:
    """One step of a transaction on its connection (the pool: a step alone, which needs no
    BEGIN and COMMIT round trips to be atomic); the row a `must_find` step found."""
    if step.many:
        if step.rows:
            text, names = _positional(step.query)
            await connection.executemany(text, [[row[n] for n in names] for row in step.rows])
        return None
    text, args = _args(step.query, step.params)
    if not step.must_find:
        await connection.execute(text, *args)
        return None
    row = await connection.fetchrow(text, *args)
    if row is None:
        raise driver.RowNotFoundError(step.query)
    return row


class PostgresDriver:
    """A PostgreSQL database through a bounded pool."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int, timeout_seconds: float = 5.0) -> None:
        self._url = url
        self._pool_size = pool_size
        self._timeout = timeout_seconds

    async def connect(self) -> None:
        # No connection yet: the pool opens them when first needed (and again after an outage),
        # each within the timeout, its statements bounded by it too (drivers/bounded_pool.py).
        self._pool = BoundedPool(self._url, size=self._pool_size, timeout=self._timeout)

    async def close(self) -> None:
        await self._pool.close()

    def pool_usage(self) -> tuple[int, int]:
        return self._pool.in_use, self._pool.waits

    async def fetch_one(self, query: str, params: Params = NO_PARAMS) -> Row | None:
        text, args = _args(query, params)
        try:
            return await self._pool.fetchrow(text, *args)
        except asyncpg.UndefinedTableError as error:
            raise driver.NoSuchTableError(str(error)) from error
        except Exception as error:  # noqa: BLE001 an outage leaves as UnavailableError
            raise_outage(error)

    async def fetch_all(self, query: str, params: Params = NO_PARAMS) -> list[Row]:
        text, args = _args(query, params)
        try:
            return await self._pool.fetch(text, *args)
        except Exception as error:  # noqa: BLE001 an outage leaves as UnavailableError
            raise_outage(error)

    async def write(self, query: str, params: Params = NO_PARAMS) -> int:
        text, args = _args(query, params)
        try:
            return _count(await self._pool.execute(text, *args))
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)
        except Exception as error:  # noqa: BLE001 an outage leaves as UnavailableError
            raise_outage(error)

    async def write_returning(self, query: str, params: Params) -> Row | None:
        text, args = _args(query, params)
        try:
            return await self._pool.fetchrow(text, *args)
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)
        except Exception as error:  # noqa: BLE001 an outage leaves as UnavailableError
            raise_outage(error)

    async def write_many(self, query: str, rows: Iterable[Params]) -> None:
        text, names = _positional(query)
        # One round trip, all or none (asyncpg pipelines executemany in one transaction).
        try:
            await self._pool.executemany(text, [[row[n] for n in names] for row in rows])
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)
        except Exception as error:  # noqa: BLE001 an outage leaves as UnavailableError
            raise_outage(error)

    async def transaction(self, steps: Sequence[Step]) -> list[Row]:
        try:
            if len(steps) == 1 and not steps[0].many:
                row = await _run(self._pool, steps[0])
                return [] if row is None else [row]
            async with self._pool.transaction() as connection:
                rows = [await _run(connection, step) for step in steps]
            return [row for row in rows if row is not None]
        except asyncpg.IntegrityConstraintViolationError as error:
            _integrity(error)
        except Exception as error:  # noqa: BLE001 an outage leaves as UnavailableError
            raise_outage(error)

    @staticmethod
    def to_datetime(value: Any) -> datetime | None:
        return value  # type: ignore[no-any-return]  # asyncpg already returns aware datetimes

    @staticmethod
    def bind_time(value: datetime) -> object:
        return value

    @staticmethod
    def id_array(ids: Sequence[int]) -> object:
        return list(ids)
