"""One synchronous SQLAlchemy connection per database, whatever its driver.

The import is plain sequential code over two connections. SQLite is synchronous already;
PostgreSQL goes through asyncpg (authgate's driver, so nothing more to install), whose
connections SQLAlchemy exposes synchronously inside `AsyncConnection.run_sync`. Calls on any
asyncpg connection work from there, so the whole import runs inside one `run_sync`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, pool

from authgate.store import sqlite_path
from authgate.store.migrate import sqlalchemy_url

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")
Work = Callable[[Connection, Connection | None], T]
BUSY_TIMEOUT_SECONDS = 10.0
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class UnsupportedUrlError(ValueError):
    """A database URL that is neither `sqlite:///path` nor `postgresql://...`."""


def is_postgres(url: str) -> bool:
    """Whether the URL names a PostgreSQL database."""
    return url.startswith(POSTGRES_SCHEMES)


def check_url(url: str) -> None:
    """UnsupportedUrlError unless the URL is one authgate reads."""
    if not (is_postgres(url) or url.startswith("sqlite:///")):
        raise UnsupportedUrlError(
            f"unsupported database URL {url.split(':', 1)[0]!r}:"
            " use sqlite:///path or postgresql://user@host:port/db"
        )


def _read_only_sqlite(path: str) -> Engine:
    """Never writes, and never creates a missing file (sqlite3.connect would, silently)."""
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)

    return create_engine("sqlite://", creator=connect, poolclass=pool.NullPool)


def _writable_sqlite(url: str) -> Engine:
    engine = create_engine(
        sqlalchemy_url(url),
        poolclass=pool.NullPool,
        connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
    )

    @event.listens_for(engine, "connect")
    def _foreign_keys(connection: Any, _record: object) -> None:
        connection.execute("PRAGMA foreign_keys=ON")

    return engine


def sqlite_exists(url: str) -> bool:
    """Whether a `sqlite:///` URL names an existing file."""
    return Path(sqlite_path(url)).is_file()


def run_with_connections(
    source_url: str, target_url: str | None, work: Work[T], *, target_read_only: bool
) -> T:
    """Open the source read-only and the target (None: there is none to read, a dry run
    against a database not created yet), then run `work(source, target)`."""
    urls = [source_url] if target_url is None else [source_url, target_url]
    if any(is_postgres(url) for url in urls):
        return asyncio.run(_run_async(source_url, target_url, work, target_read_only))
    with ExitStack() as stack:
        source = stack.enter_context(_read_only_sqlite(sqlite_path(source_url)).connect())
        target = None
        if target_url is not None:
            engine = (
                _read_only_sqlite(sqlite_path(target_url))
                if target_read_only
                else _writable_sqlite(target_url)
            )
            target = stack.enter_context(engine.connect())
        return work(source, target)


async def _run_async(
    source_url: str, target_url: str | None, work: Work[T], target_read_only: bool
) -> T:
    # Imported here: SQLAlchemy's asyncio layer needs greenlet, which the postgres extra brings
    # and a bare install (SQLite only) has not.
    from sqlalchemy.ext.asyncio import create_async_engine

    async with AsyncExitStack() as stack:
        asynchronous: list[AsyncConnection] = []

        async def open_connection(url: str, read_only: bool) -> Connection:
            if is_postgres(url):
                engine = create_async_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
                stack.push_async_callback(engine.dispose)
                connection = await stack.enter_async_context(engine.connect())
                asynchronous.append(connection)
                synchronous = connection.sync_connection
                assert synchronous is not None  # noqa: S101 set while the connection is open
                return synchronous
            sync_engine = (
                _read_only_sqlite(sqlite_path(url)) if read_only else _writable_sqlite(url)
            )
            return stack.enter_context(sync_engine.connect())

        source = await open_connection(source_url, True)
        target = None if target_url is None else await open_connection(target_url, target_read_only)
        return await asynchronous[0].run_sync(lambda _: work(source, target))
