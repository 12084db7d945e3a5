"""Benchmark fixture: fill an authgate database with user0..user{N-1}, one token and one browser
session each, fast.

The password is hashed ONCE with authgate's own `Passwords` (argon2id at the default settings);
every user shares that hash. Rows go straight into the tables of `authgate.store.schema` with
sqlite3 `executemany` (or asyncpg `copy_records_to_table` for PostgreSQL), bypassing the core,
so 10,000 users take a second instead of 10,000 argon2 hashes.

CARE: this writes the tables by hand. If `src/authgate/store/schema.py` (or how the core
normalises usernames/emails or digests tokens) changes, update the rows built here.
`check_schema()` refuses to run when the schema grew a required column this file does not
fill, or lost one it does.

Line I of the tokens file is userI's raw token, as the reference project's `seed_bench` writes;
line I of the sessions file (`<tokens file>.sessions.txt`) is userI's session cookie value.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authgate.constants import TOKEN_BYTES, TOKEN_TOUCH_INTERVAL_SECONDS
from authgate.core.identity import (
    email_key,
    normalize_email,
    normalize_username,
    username_key,
    username_skeletons,
)
from authgate.core.passwords import Passwords
from authgate.core.sessions import (
    SESSION_BYTES,
    TOUCH_INTERVAL_SECONDS as SESSION_TOUCH_INTERVAL_SECONDS,
    session_digest,
)
from authgate.core.tokens import digest
from authgate.settings import Settings
from authgate.store import sqlite_path
from authgate.store.schema import auth_session, auth_token, auth_user
from authgate.store.sql import AUTH_USER_COLUMNS

USER_COLUMNS = AUTH_USER_COLUMNS
TOKEN_COLUMNS = ("digest", "user_id", "created_at", "expires_at", "last_used_at")
SESSION_COLUMNS = ("digest", "user_id", "created_at", "expires_at", "last_used_at")
# The tables whose rows carry a digest of what the client sends, and a last use that a
# request writes again once it is older than the interval (core/tokens.py, core/sessions.py).
TOUCHED = {
    "auth_token": (digest, TOKEN_TOUCH_INTERVAL_SECONDS),
    "auth_session": (session_digest, SESSION_TOUCH_INTERVAL_SECONDS),
}
BATCH = 50_000
# Told (rows done, rows in all) after each batch.
Progress = Callable[[int, int], None] | None


@dataclass(frozen=True, slots=True)
class Seeded:
    """What was seeded: how many users, the tokens and sessions files, how long it took."""

    users: int
    tokens_file: Path
    seconds: float
    sessions_file: Path | None = None

    def summary(self) -> str:
        sessions = "" if self.sessions_file is None else " + sessions"
        return (
            f"seeded {self.users} users + tokens{sessions} in {self.seconds:.2f}s"
            f" -> {self.tokens_file}"
        )


def sessions_file_of(tokens_out: Path) -> Path:
    """Where the sessions seeded beside `tokens_out` are written."""
    return tokens_out.with_suffix(".sessions.txt")


def check_schema() -> None:
    """Fail loudly if schema.py no longer matches the rows this module builds."""
    tables = (
        (auth_user, USER_COLUMNS),
        (auth_token, TOKEN_COLUMNS),
        (auth_session, SESSION_COLUMNS),
    )
    for table, columns in tables:
        names = {column.name for column in table.columns}
        missing = set(columns) - names
        if missing:
            msg = f"bench seeding is stale: {table.name} lost columns {sorted(missing)}"
            raise RuntimeError(msg)
        required = {c.name for c in table.columns if not c.nullable and c.server_default is None}
        unfilled = required - set(columns)
        if unfilled:
            msg = f"bench seeding is stale: {table.name} has new columns {sorted(unfilled)}"
            raise RuntimeError(msg)


def default_passwords() -> Passwords:
    """authgate's password hasher at the *default* settings (not whatever the env says)."""
    fields = Settings.model_fields
    return Passwords(
        time_cost=fields["argon2_time_cost"].default,
        memory_cost_kib=fields["argon2_memory_cost_kib"].default,
        parallelism=fields["argon2_parallelism"].default,
        min_length=fields["password_min_length"].default,
        threads=1,
    )


def _users(count: int, password_hash: str, now: datetime, first: int = 0) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for i in range(first, first + count):
        username = normalize_username(f"user{i}")
        email = normalize_email(f"user{i}@example.com")
        rows.append(
            (
                i + 1,
                username,
                username_key(username),
                email,
                email_key(email),
                "",
                "",
                password_hash,
                True,
                False,
                False,
                "USER",
                now,
                None,
                None,
                *username_skeletons(username_key(username)),
            )
        )
    return rows


def _tokens(count: int, now: datetime, first: int = 0) -> tuple[list[str], list[tuple[Any, ...]]]:
    raws = [secrets.token_hex(TOKEN_BYTES) for _ in range(count)]
    rows = [(digest(raw), first + i + 1, now, None, None) for i, raw in enumerate(raws)]
    return raws, rows


def _sessions(count: int, now: datetime, first: int = 0) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One browser session per user, as core/sessions.py opens them: the cookie's value is
    `secrets.token_urlsafe(SESSION_BYTES)`, the row keeps its digest, expiring after the
    default lifetime."""
    lifetime = timedelta(seconds=Settings.model_fields["session_lifetime_seconds"].default)
    raws = [secrets.token_urlsafe(SESSION_BYTES) for _ in range(count)]
    rows = [
        (session_digest(raw), first + i + 1, now, now + lifetime, now) for i, raw in enumerate(raws)
    ]
    return raws, rows


def _write_tokens(raws: Sequence[str], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{raw}\n" for raw in raws), encoding="ascii")


def _insert(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 constant names


def _iso(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # The SQLite store binds datetimes as isoformat() text and reads them with fromisoformat().
    return tuple(v.isoformat() if isinstance(v, datetime) else v for v in row)


def hash_once(password: str) -> str:
    """One argon2id hash of `password` at authgate's default parameters."""
    return asyncio.run(default_passwords().hash(password))


def _batches(users: int) -> list[tuple[int, int]]:
    """[start, stop) ranges of user indexes, BATCH at a time (a million rows at once would
    hold gigabytes of tuples)."""
    return [(start, min(start + BATCH, users)) for start in range(0, users, BATCH)]


def seed_sqlite(
    database_url: str, users: int, password: str, tokens_out: Path, progress: Progress = None
) -> Seeded:
    """Seed an already migrated, empty SQLite database."""
    check_schema()
    started = datetime.now(UTC)
    password_hash = hash_once(password)
    now = datetime.now(UTC)
    raws: list[str] = []
    session_raws: list[str] = []
    connection = sqlite3.connect(sqlite_path(database_url), isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("BEGIN")
        for start, stop in _batches(users):
            user_rows = [_iso(row) for row in _users(stop - start, password_hash, now, start)]
            batch_raws, token_rows = _tokens(stop - start, now, start)
            batch_sessions, session_rows = _sessions(stop - start, now, start)
            connection.executemany(_insert("auth_user", USER_COLUMNS), user_rows)
            connection.executemany(
                _insert("auth_token", TOKEN_COLUMNS), [_iso(r) for r in token_rows]
            )
            connection.executemany(
                _insert("auth_session", SESSION_COLUMNS), [_iso(r) for r in session_rows]
            )
            raws += batch_raws
            session_raws += batch_sessions
            if progress is not None:
                progress(stop, users)
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no-op unless in WAL mode
    finally:
        connection.close()
    return _written(users, raws, session_raws, tokens_out, started)


def _written(
    users: int,
    raws: Sequence[str],
    session_raws: Sequence[str],
    tokens_out: Path,
    started: datetime,
) -> Seeded:
    _write_tokens(raws, tokens_out)
    sessions_out = sessions_file_of(tokens_out)
    _write_tokens(session_raws, sessions_out)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return Seeded(users, tokens_out, seconds, sessions_out)


def ensure_postgres_database(database_url: str) -> bool:
    """Create the scratch database if the server lacks it (a fresh machine); True if created."""
    import asyncpg

    name = urlsplit(database_url).path.lstrip("/")

    async def ensure() -> bool:
        try:
            connection = await asyncpg.connect(database_url)
        except asyncpg.InvalidCatalogNameError:
            admin = await asyncpg.connect(database_url.rsplit("/", 1)[0] + "/postgres")
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin.close()
            return True
        await connection.close()
        return False

    return asyncio.run(ensure())


def seed_postgres(
    database_url: str, users: int, password: str, tokens_out: Path, progress: Progress = None
) -> Seeded:
    """Seed an already migrated PostgreSQL database. Its auth_user/auth_token are EMPTIED first."""
    check_schema()
    started = datetime.now(UTC)
    password_hash = hash_once(password)
    now = datetime.now(UTC)
    raws: list[str] = []
    session_raws: list[str] = []

    async def load() -> None:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            async with connection.transaction():
                await connection.execute("TRUNCATE auth_token, auth_user RESTART IDENTITY CASCADE")
                for start, stop in _batches(users):
                    batch_raws, token_rows = _tokens(stop - start, now, start)
                    batch_sessions, session_rows = _sessions(stop - start, now, start)
                    await connection.copy_records_to_table(
                        "auth_user",
                        records=_users(stop - start, password_hash, now, start),
                        columns=list(USER_COLUMNS),
                    )
                    await connection.copy_records_to_table(
                        "auth_token", records=token_rows, columns=list(TOKEN_COLUMNS)
                    )
                    await connection.copy_records_to_table(
                        "auth_session", records=session_rows, columns=list(SESSION_COLUMNS)
                    )
                    raws.extend(batch_raws)
                    session_raws.extend(batch_sessions)
                    if progress is not None:
                        progress(stop, users)
                # Explicit ids were given: move the id sequence past them for registrations.
                await connection.execute(
                    "SELECT setval(pg_get_serial_sequence('auth_user', 'id'),"
                    " (SELECT max(id) FROM auth_user))"
                )
            await connection.execute("ANALYZE auth_user")
            await connection.execute("ANALYZE auth_token")
            await connection.execute("ANALYZE auth_session")
        finally:
            await connection.close()

    asyncio.run(load())
    return _written(users, raws, session_raws, tokens_out, started)


def _staggered(raws: Sequence[str], now: datetime, seed: int, table: str) -> list[tuple[Any, str]]:
    rng = random.Random(seed)
    digest_of, window = TOUCHED[table]
    return [(now - timedelta(seconds=rng.uniform(0, window)), digest_of(raw)) for raw in raws]


def stagger_last_used(
    database_url: str, tokens_file: Path, *, seed: int = 0, table: str = "auth_token"
) -> None:
    """Put every token's (or, with table="auth_session", every session's) last_used_at at a
    random moment of the last touch interval.

    That is the steady state of a service whose tokens are all in use: about
    N / TOKEN_TOUCH_INTERVAL_SECONDS tokens come due for a `last_used_at` write each second,
    instead of all N at once (fresh tokens) or none (all just touched).
    """
    raws = tokens_file.read_text(encoding="ascii").split()
    now = datetime.now(UTC)
    rows = _staggered(raws, now, seed, table)
    update = f"UPDATE {table} SET last_used_at = ? WHERE digest = ?"  # noqa: S608 a known name
    if database_url.startswith("sqlite:///"):
        connection = sqlite3.connect(sqlite_path(database_url), isolation_level=None)
        try:
            connection.execute("BEGIN")
            connection.executemany(update, [(at.isoformat(), d) for at, d in rows])
            connection.execute("COMMIT")
            # Start every run from a checkpointed file, not behind an earlier run's WAL.
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
        return

    async def update_postgres() -> None:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            await connection.executemany(update.replace("?", "$1", 1).replace("?", "$2"), rows)
        finally:
            await connection.close()

    asyncio.run(update_postgres())


def main() -> None:
    """`python bench/seed_authgate.py --database-url URL --users N --tokens-out FILE`: migrate and
    seed a database with a progress bar (a million users take about a minute on SQLite)."""
    import argparse

    from rich.progress import Progress as Bar

    from authgate.store.migrate import upgrade

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--database-url", required=True, help="an EMPTY sqlite:/// or SCRATCH pg")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--tokens-out", type=Path, required=True)
    parser.add_argument("--password", default="Bench-Horse-Battery-9")
    args = parser.parse_args()
    upgrade(args.database_url)
    seed = seed_sqlite if args.database_url.startswith("sqlite:///") else seed_postgres
    with Bar() as bar:
        task = bar.add_task("seeding users and tokens", total=args.users)
        seeded = seed(
            args.database_url,
            args.users,
            args.password,
            args.tokens_out,
            lambda done, _total: bar.update(task, completed=done),
        )
    print(seeded.summary())


if __name__ == "__main__":
    main()
