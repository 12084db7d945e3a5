"""The state of the database a command is about to use: reachable, writable, at which revision.

Each problem is told as what is wrong (naming AUTHGATE_DATABASE_URL and the database, whose
password is never shown) and how to fix it, for the `authgate` command to print instead of a
driver's traceback. Only `serve` and `migrate` may create a database (`create=True`); every
other command looks without creating anything: the SQLite file is opened read-only and only
if it exists.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
from pathlib import Path
from urllib.parse import quote, urlsplit

from authgate.store import sqlite_path
from authgate.store.revisions import Revisions

MIGRATE = "run `authgate migrate`, or set AUTHGATE_DATABASE_URL to the database to use"


class UnusableDatabaseError(Exception):
    """The database cannot be used: what is wrong, and how to fix it."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix


def shown(url: str) -> str:
    """The database as messages name it: SQLite's absolute path; a PostgreSQL URL without its
    password and query (which may carry one)."""
    if url.startswith("sqlite:///"):
        path = sqlite_path(url)
        return path if path == ":memory:" else str(Path(path).absolute())
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{_address(url)}{parts.path}"


def revision(url: str, *, create: bool, timeout_seconds: float) -> str | None:
    """The schema revision of the database at `url`; None when it is empty (or, with `create`,
    not there yet). Raises UnusableDatabaseError when it cannot be reached or used, and, without
    `create`, when it does not exist."""
    if url.startswith("sqlite:///"):
        return _sqlite_revision(sqlite_path(url), create=create)
    return asyncio.run(_postgres_revision(url, timeout_seconds))


def require_migrated(url: str, *, revisions: Revisions, timeout_seconds: float) -> None:
    """Refuse a database that is missing, empty or not at the head of `revisions` (the
    commands other than `serve` and `migrate`: their queries would fail with "no such
    table")."""
    current = revision(url, create=False, timeout_seconds=timeout_seconds)
    if current is None:
        raise UnusableDatabaseError(
            f"the database {shown(url)} (AUTHGATE_DATABASE_URL) is empty: no authgate schema",
            MIGRATE,
        )
    refuse_unknown(url, current, revisions)
    if current != revisions.head:
        raise UnusableDatabaseError(
            f"the database {shown(url)} (AUTHGATE_DATABASE_URL) is at revision {current};"
            f" this authgate needs {revisions.head}",
            "run `authgate migrate`",
        )


def refuse_unknown(url: str, current: str, revisions: Revisions) -> None:
    """Refuse a schema written by a newer authgate (no migration here knows its revision)."""
    if current not in revisions.known:
        raise UnusableDatabaseError(
            f"the database {shown(url)} (AUTHGATE_DATABASE_URL) is at revision {current},"
            " which this authgate does not know (a newer version migrated it)",
            "run the newer authgate, or set AUTHGATE_DATABASE_URL to another database",
        )


def _sqlite_revision(path: str, *, create: bool) -> str | None:
    if path == ":memory:":
        return None
    file = Path(path).absolute()
    if not file.exists():
        if not create:
            raise UnusableDatabaseError(
                f"there is no database at {file} (AUTHGATE_DATABASE_URL)", MIGRATE
            )
        _refuse_unwritable_directory(file.parent)
        return None
    current = _read_revision(file)
    if create:
        from authgate.store.drivers.sqlite import write_problem

        problem = write_problem(str(file))
        if problem is not None:
            raise UnusableDatabaseError(
                f"the SQLite database {file} (AUTHGATE_DATABASE_URL) cannot be written: {problem}",
                "make the file and its directory writable by this user, or set"
                " AUTHGATE_DATABASE_URL to a writable path",
            )
    return current


def _read_revision(file: Path) -> str | None:
    """The revision in an existing SQLite file, read without writing anything."""
    try:
        connection = sqlite3.connect(f"file:{quote(str(file))}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return None
        raise UnusableDatabaseError(
            f"the SQLite database {file} (AUTHGATE_DATABASE_URL) cannot be read: {error}",
            "make it readable by this user, or set AUTHGATE_DATABASE_URL to another path",
        ) from None
    except sqlite3.DatabaseError as error:
        raise UnusableDatabaseError(
            f"{file} (AUTHGATE_DATABASE_URL) is not a SQLite database: {error}",
            "set AUTHGATE_DATABASE_URL to authgate's database file",
        ) from None
    return None if row is None else str(row[0])


def _refuse_unwritable_directory(directory: Path) -> None:
    """A new SQLite file goes only into a directory that exists: a mistyped path or a volume
    that is not mounted would otherwise get a fresh, empty database nobody looks for."""
    fix = "create it (writable by this user), or set AUTHGATE_DATABASE_URL to another path"
    if not directory.is_dir():
        raise UnusableDatabaseError(
            f"the directory {directory} of the SQLite database (AUTHGATE_DATABASE_URL)"
            " does not exist",
            fix,
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UnusableDatabaseError(
            f"the directory {directory} of the SQLite database (AUTHGATE_DATABASE_URL)"
            " is not writable by this user",
            fix.replace("create it", "make it writable"),
        )


async def _postgres_revision(url: str, timeout_seconds: float) -> str | None:
    try:
        import asyncpg
    except ImportError:
        raise UnusableDatabaseError(
            "AUTHGATE_DATABASE_URL names PostgreSQL, but its driver is not installed",
            "pip install 'authgate[postgres]'",
        ) from None
    address = _address(url)
    fix_url = "or fix the host and port in AUTHGATE_DATABASE_URL"
    try:
        connection = await asyncpg.connect(url, timeout=timeout_seconds)
    except asyncpg.InvalidCatalogNameError:
        name = urlsplit(url).path.lstrip("/")
        raise UnusableDatabaseError(
            f"the PostgreSQL database {name!r} does not exist at {address} (AUTHGATE_DATABASE_URL)",
            f"create it (createdb -h {urlsplit(url).hostname} {name}), or fix the database name"
            " in AUTHGATE_DATABASE_URL",
        ) from None
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as e:
        raise UnusableDatabaseError(
            f"PostgreSQL at {address} refused the login (AUTHGATE_DATABASE_URL): {e}",
            "check the user and password in AUTHGATE_DATABASE_URL",
        ) from None
    except asyncpg.PostgresError as error:
        raise UnusableDatabaseError(
            f"PostgreSQL at {address} refused the connection (AUTHGATE_DATABASE_URL): {error}",
            "check AUTHGATE_DATABASE_URL and the server's log",
        ) from None
    except TimeoutError:
        raise UnusableDatabaseError(
            f"PostgreSQL at {address} (AUTHGATE_DATABASE_URL) did not answer within"
            f" {timeout_seconds:g} s (AUTHGATE_DATABASE_TIMEOUT_SECONDS)",
            f"check that it runs and that this host may reach it, {fix_url}",
        ) from None
    except OSError as error:
        reason = _reason(error)
        raise UnusableDatabaseError(
            f"cannot reach PostgreSQL at {address} (AUTHGATE_DATABASE_URL): {reason}",
            f"start PostgreSQL, {fix_url}",
        ) from None
    except ValueError:  # asyncpg's parse of the URL; its message repeats parts of it
        raise UnusableDatabaseError(
            "AUTHGATE_DATABASE_URL is not a valid PostgreSQL URL",
            "write it as postgresql://user:password@host:5432/database",
        ) from None
    try:
        value = await connection.fetchval("SELECT version_num FROM alembic_version")
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await connection.close()
    return None if value is None else str(value)


def _reason(error: OSError) -> str:
    """ "connection refused", "host not found", ... (asyncio's own words add the address)."""
    if isinstance(error, socket.gaierror):
        return "host not found"
    return os.strerror(error.errno).lower() if error.errno and error.errno > 0 else str(error)


def _address(url: str) -> str:
    """`host:port` of a PostgreSQL URL (5432 unless it names another)."""
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        return parts.hostname or "localhost"
    return f"{parts.hostname or 'localhost'}:{port}"
