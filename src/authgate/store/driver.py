"""What the one SqlStore (store/sql_store.py) needs of a database: the driver interface, and the
errors a driver raises in place of its own.

A driver takes the queries of store/sql.py as written (:name parameters) and a mapping of
their values; how it binds them, where it runs them and how it reports what they did is its
business (drivers/sqlite.py, drivers/postgres.py). Reads and writes are told apart, because a
SQLite read runs inline on the event loop while its writes queue for one writer thread.

Nothing here is translated per call: a driver rewrites a query's text at most once (and keeps
it), and its hot-path methods are one call deep.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from authgate.store.sql import Dialect

Params = Mapping[str, object]
NO_PARAMS: Params = {}  # never written to: the default of a query without parameters
# A row as the driver returns it (sqlite3.Row, asyncpg.Record): by column name or position.
Row = Any


class UniqueKeyTakenError(Exception):
    """A write met a unique key taken; `detail` names the key (SQLite's message, PostgreSQL's
    constraint), which is how the store tells a taken username from a taken email."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RowGoneError(Exception):
    """A write referred to a row that is gone (a user deleted meanwhile)."""


class NoSuchTableError(Exception):
    """A read named a table the database does not have (no schema yet)."""


class RowNotFoundError(Exception):
    """A transaction's step that had to find a row found none; nothing was written."""


@dataclass(frozen=True, slots=True)
class Step:
    """One statement of a transaction: run once with `params`, or (`many`) once per mapping
    of `rows`; `must_find`: a read that must return a row, else RowNotFoundError rolls back."""

    query: str
    params: Params = field(default_factory=dict)
    rows: Sequence[Params] = ()
    many: bool = False
    must_find: bool = False


class Driver(Protocol):
    """One database: SQLite (drivers/sqlite.py) or PostgreSQL (drivers/postgres.py)."""

    dialect: Dialect

    async def connect(self) -> None:
        """Open connections; called once before the first query."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...

    async def fetch_one(self, query: str, params: Params = NO_PARAMS) -> Row | None:
        """A read's first row (None without one); NoSuchTableError for a table not there."""
        ...

    async def fetch_all(self, query: str, params: Params = NO_PARAMS) -> list[Row]:
        """A read's rows."""
        ...

    async def write(self, query: str, params: Params = NO_PARAMS) -> int:
        """Run a write; how many rows it changed. UniqueKeyTakenError, RowGoneError."""
        ...

    async def write_returning(self, query: str, params: Params) -> Row | None:
        """Run a write that returns a row (RETURNING); that row. Errors as write()."""
        ...

    async def write_many(self, query: str, rows: Iterable[Params]) -> None:
        """Run a write once per mapping, all or none, in one round trip where the database
        allows."""
        ...

    async def transaction(self, steps: Sequence[Step]) -> list[Row]:
        """Run the steps in one transaction: all or none, and no other write in between; the
        rows the `must_find` steps found, in order."""
        ...

    def to_datetime(self, value: Any) -> datetime | None:
        """A stored time as a datetime (None stays None)."""
        ...

    def bind_time(self, value: datetime) -> object:
        """A time as a read's parameter (writes bind their times themselves)."""
        ...

    def id_array(self, ids: Sequence[int]) -> object:
        """Ids as the :ids parameter of sql.Link.existing."""
        ...


class PooledDriver(Driver, Protocol):
    """A driver with a connection pool (PostgreSQL's), whose figures the metrics show."""

    def pool_usage(self) -> tuple[int, int]:
        """(connections in use now, acquisitions so far that had to wait for one)."""
        ...
