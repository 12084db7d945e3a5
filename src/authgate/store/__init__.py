"""Where authgate's state lives: open_store(url) picks the backend from the URL's scheme."""

from __future__ import annotations

from authgate.store.base import Store

__all__ = ["Store", "open_store", "sqlite_path", "write_problem"]


def sqlite_path(url: str) -> str:
    """`sqlite:///relative.db` -> `relative.db`; `sqlite:////abs.db` -> `/abs.db`."""
    return url.removeprefix("sqlite:///") or ":memory:"


def open_store(url: str, *, pool_size: int = 10, timeout_seconds: float = 5.0) -> Store:
    """The (not yet connected) Store named by a database URL (`sqlite:///path` or `postgresql://...`)."""
    if url.startswith("sqlite:///"):
        from authgate.store.sqlite import SqliteStore

        return SqliteStore(sqlite_path(url))
    if url.startswith(("postgresql://", "postgres://")):
        from authgate.store.postgres import PostgresStore

        return PostgresStore(url, pool_size=pool_size, timeout_seconds=timeout_seconds)
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]!r}")


def write_problem(url: str) -> str | None:
    """Why the database at `url` cannot take a write (a read-only SQLite file or mount), or
    None. Checked before serving: a service that cannot write answers every login with 503."""
    if url.startswith("sqlite:///"):
        from authgate.store.sqlite import write_problem as sqlite_write_problem

        return sqlite_write_problem(sqlite_path(url))
    return None  # PostgreSQL: not checked here
