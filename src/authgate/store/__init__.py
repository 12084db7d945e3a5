"""Where authgate's state lives: open_store(url) picks the database's driver from the URL's
scheme, under the one SqlStore."""

from __future__ import annotations

from authgate.store.protocol import Store

__all__ = ["Store", "open_store", "sqlite_path", "write_problem"]


def sqlite_path(url: str) -> str:
    """`sqlite:///relative.db` -> `relative.db`; `sqlite:////abs.db` -> `/abs.db`."""
    return url.removeprefix("sqlite:///") or ":memory:"


def open_store(url: str, *, pool_size: int = 10, timeout_seconds: float = 5.0) -> Store:
    """The (not yet connected) Store named by a database URL (`sqlite:///path` or `postgresql://...`)."""
    if url.startswith("sqlite:///"):
        from authgate.store.drivers.sqlite import SqliteDriver
        from authgate.store.sql_store import SqlStore

        return SqlStore(SqliteDriver(sqlite_path(url)))
    if url.startswith(("postgresql://", "postgres://")):
        from authgate.store.drivers.postgres import PostgresDriver
        from authgate.store.sql_store import PooledSqlStore

        driver = PostgresDriver(url, pool_size=pool_size, timeout_seconds=timeout_seconds)
        return PooledSqlStore(driver)
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]!r}")


def write_problem(url: str) -> str | None:
    """Why the database at `url` cannot take a write (a read-only SQLite file or mount), or
    None. Checked before serving: a service that cannot write answers every login with 503."""
    if url.startswith("sqlite:///"):
        from authgate.store.drivers.sqlite import write_problem as sqlite_write_problem

        return sqlite_write_problem(sqlite_path(url))
    return None  # PostgreSQL: not checked here
