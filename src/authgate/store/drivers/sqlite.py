"""The SQLite driver, on the stdlib sqlite3: reads inline on the event loop, writes on one thread.

Indexed reads take microseconds, so they run on the loop without a thread hop (the hot path);
writes may wait on the file lock, so they run on a single writer thread and never block the loop.
That one writer also makes every transaction one job: nothing else writes in between. A file out
of reach or full (store/unavailable.py) leaves as UnavailableError.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from authgate.store import driver
from authgate.store.driver import NO_PARAMS, Params, Row, Step
from authgate.store.sql import Dialect
from authgate.store.unavailable import raise_outage
from authgate.worker_threads import WorkerThreads

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000
WAL_RETRY_SECONDS = 0.01


def _bind(params: Params) -> dict[str, object]:
    """A write's parameters as sqlite3 takes them: times as the ISO text they are stored as."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}


def _lower(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    return value.lower() if isinstance(value, str) else value


def _integrity(error: sqlite3.IntegrityError) -> NoReturn:
    """sqlite3's IntegrityError as the driver interface's: a taken unique key, a reference to
    a row that is gone; any other (a bug) as it is."""
    message = str(error)
    if message.startswith("UNIQUE constraint failed"):
        raise driver.UniqueKeyTakenError(message) from error
    if message.startswith("FOREIGN KEY constraint failed"):
        raise driver.RowGoneError(message) from error
    raise error


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT on the writer's connection (autocommit otherwise); any error
    rolls the whole transaction back."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL, a busy timeout and foreign keys on, whose
    LOWER() is Python's str.lower: SQLite's own lowers ASCII only, PostgreSQL's every letter,
    and the user search (sql.search_users) must fold names alike on both."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.create_function("lower", 1, _lower, deterministic=True)
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _use_wal(connection)
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _use_wal(connection: sqlite3.Connection) -> None:
    """Put the file in WAL mode, which it keeps. Switching needs the file to itself, and two
    processes switching at once (the workers of a first start) make SQLite refuse one of them
    at once, busy timeout or not (it would deadlock); so the refused one asks again, until the
    other's switch is done or the busy timeout has passed."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(WAL_RETRY_SECONDS)


def write_problem(path: str) -> str | None:
    """Why SQLite cannot write the file at `path` (its own words), or None. A read-only file or
    mount opens and reads fine; only a write tells, so one is tried and rolled back."""
    if path == ":memory:":
        return None
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except (OSError, sqlite3.Error) as error:
        return str(error)
    try:
        connection.execute("BEGIN IMMEDIATE")
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        connection.execute(f"PRAGMA user_version = {version}")
        connection.execute("ROLLBACK")
    except sqlite3.Error as error:
        return str(error)
    finally:
        connection.close()
    return None


class SqliteDriver:
    """One SQLite file: a reader connection for the loop, a writer connection for its thread."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._path = path

    async def connect(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._reader = connect(self._path)
        self._writer_connection = connect(self._path)
        self._writer = WorkerThreads(1, name="sqlite-writer")

    async def close(self) -> None:
        self._writer.close()
        self._writer_connection.close()
        self._reader.close()

    async def fetch_one(self, query: str, params: Params = NO_PARAMS) -> Row | None:
        try:
            return self._reader.execute(query, params).fetchone()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                raise driver.NoSuchTableError(str(error)) from error
            raise_outage(error)

    async def fetch_all(self, query: str, params: Params = NO_PARAMS) -> list[Row]:
        try:
            return self._reader.execute(query, params).fetchall()
        except sqlite3.OperationalError as error:
            raise_outage(error)

    async def _on_writer(self, work: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await self._writer.run(functools.partial(work, self._writer_connection))
        except sqlite3.OperationalError as error:
            raise_outage(error)

    async def write(self, query: str, params: Params = NO_PARAMS) -> int:
        def run(connection: sqlite3.Connection) -> int:
            try:
                return connection.execute(query, _bind(params)).rowcount
            except sqlite3.IntegrityError as error:
                _integrity(error)

        return await self._on_writer(run)

    async def write_returning(self, query: str, params: Params) -> Row | None:
        def run(connection: sqlite3.Connection) -> Row | None:
            try:
                return connection.execute(query, _bind(params)).fetchone()
            except sqlite3.IntegrityError as error:
                _integrity(error)

        return await self._on_writer(run)

    async def write_many(self, query: str, rows: Iterable[Params]) -> None:
        bound = [_bind(row) for row in rows]

        def run(connection: sqlite3.Connection) -> None:
            try:
                with _transaction(connection):  # one commit, not one per row
                    connection.executemany(query, bound)
            except sqlite3.IntegrityError as error:
                _integrity(error)

        await self._on_writer(run)

    async def transaction(self, steps: Sequence[Step]) -> list[Row]:
        def run(connection: sqlite3.Connection) -> list[Row]:
            found = []
            try:
                with _transaction(connection):
                    for step in steps:
                        if step.many:
                            connection.executemany(step.query, [_bind(r) for r in step.rows])
                            continue
                        cursor = connection.execute(step.query, _bind(step.params))
                        if step.must_find:
                            row = cursor.fetchone()
                            if row is None:
                                raise driver.RowNotFoundError(step.query)
                            found.append(row)
                        cursor.close()  # a RETURNING statement ends before the next one
            except sqlite3.IntegrityError as error:
                _integrity(error)
            return found

        return await self._on_writer(run)

    @staticmethod
    def to_datetime(value: Any) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    @staticmethod
    def bind_time(value: datetime) -> object:
        return value.isoformat()

    @staticmethod
    def id_array(ids: Sequence[int]) -> object:
        return json.dumps(list(ids))
