"""Which failures mean "the database is away" (503, try again) rather than a bug (500), and
their translation into the core's one outage error, UnavailableError, at the drivers' edge.

The database going away shows up as whatever its driver raises: a refused or dropped socket,
asyncpg's connection errors, a timeout, SQLite unable to open, lock or write its file (a full
disk or a read-only file: as with a database that is away, nothing was written and a later try
may work). Each driver hands those on as UnavailableError (`raise_outage`), so nothing above
the store tells a driver's errors apart: the core lets it through (a registration that meets
one is no "cannot create user"), and the dialects answer it with 503 in their own shape
(dialects/errors.py); anything else stays a logged 500.
"""

from __future__ import annotations

import sqlite3
import sys
from typing import NoReturn

from authgate.core.errors import UnavailableError

# Messages of sqlite3.OperationalError that say the file is out of reach or cannot take a write
# (a full disk, a read-only file or mount), not that SQL is wrong.
SQLITE_UNAVAILABLE = (
    "database is locked",
    "unable to open",
    "disk i/o error",
    "database or disk is full",
    "attempt to write a readonly database",
)


def _driver_errors() -> tuple[type[BaseException], ...]:
    """asyncpg's connection errors, once it is loaded (by the PostgreSQL driver): before
    that, none of them can have been raised. Not imported here: it would add some 2 MiB to
    every worker over SQLite (bench/memory.py)."""
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is None:
        return ()
    return (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.CannotConnectNowError,
        asyncpg.AdminShutdownError,
        asyncpg.ConnectionFailureError,
        # What asyncpg raises when the server drops a connection in the middle of a query
        # ("cannot switch to state ...; another operation is in progress").
        asyncpg.InternalClientError,
    )


CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    UnavailableError,
    OSError,
    ConnectionError,
    TimeoutError,
)


def is_unavailable(error: BaseException) -> bool:
    """True when `error` (or what caused it) says a backing service cannot be reached."""
    connection_errors = (*CONNECTION_ERRORS, *_driver_errors())
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, connection_errors):
            return True
        if isinstance(current, sqlite3.OperationalError) and any(
            text in str(current).lower() for text in SQLITE_UNAVAILABLE
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def raise_outage(error: BaseException) -> NoReturn:
    """Raise `error` again, as UnavailableError (in the driver's own words) when it says the
    database is away. Called from a driver's `except`: the error is the one being handled."""
    if isinstance(error, UnavailableError) or not is_unavailable(error):
        raise error
    raise UnavailableError(str(error) or type(error).__name__) from error
