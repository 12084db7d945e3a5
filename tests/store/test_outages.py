"""The store raises the core's UnavailableError itself when its database is away (a server
that does not answer, a SQLite file that cannot take a write), in the driver's words and with
the driver's error as its cause."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from authgate.core.errors import UnavailableError
from authgate.store import Store, open_store
from authgate.store.drivers import sqlite as sqlite_driver
from tests.store.test_store_contract import add_user
from tests.support import free_port, run


async def _outage_of(
    store: Store, take_away: Callable[[], object] = lambda: None
) -> UnavailableError:
    """The error a write meets once `take_away` has made the connected store's database
    unreachable."""
    await store.connect()
    try:
        take_away()
        with pytest.raises(UnavailableError) as raised:
            await add_user(store, "away")
    finally:
        await store.close()
    return raised.value


def test_a_postgresql_server_that_does_not_answer_is_unavailable() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    error = run(_outage_of(open_store(url, timeout_seconds=1.0)))
    assert isinstance(error.__cause__, OSError | TimeoutError)
    assert str(error) == (str(error.__cause__) or type(error.__cause__).__name__)


def test_a_locked_sqlite_file_is_unavailable(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "BUSY_TIMEOUT_MS", 0)  # fail at once, not in 10 s
    path = tmp_path / "locked.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        # Taken once the store is connected: connecting sets WAL mode, which needs the file.
        error = run(
            _outage_of(open_store(f"sqlite:///{path}"), lambda: holder.execute("BEGIN EXCLUSIVE"))
        )
    finally:
        holder.close()
    assert isinstance(error.__cause__, sqlite3.OperationalError)
    assert str(error) == "database is locked"


def test_asyncpg_connection_errors_are_unavailable() -> None:
    """asyncpg's own connection errors (which no OSError covers) say the database is away;
    store/unavailable.py reads them only once asyncpg is loaded, as the PostgreSQL driver
    does before any can be raised."""
    import asyncpg

    from authgate.store.unavailable import is_unavailable

    assert is_unavailable(asyncpg.InternalClientError("cannot switch to state 15"))
    assert is_unavailable(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert not is_unavailable(asyncpg.UniqueViolationError("duplicate key"))
