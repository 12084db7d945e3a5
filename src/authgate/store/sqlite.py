"""Store on the stdlib sqlite3 driver: reads inline on the event loop, writes on one thread.

Indexed reads take microseconds, so they run on the loop without a thread hop (the hot path);
writes may wait on the file lock, so they run on a single writer thread and never block the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from authgate.core.errors import ConflictError, NotFoundError
from authgate.core.models import NewUser, Principal, TokenRecord, User
from authgate.store import sql
from authgate.store.base import (
    UserChanges,
    conflict_field,
    new_token_params,
    new_user_params,
    principal_from_row,
    user_from_row,
)

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000


def _to_datetime(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _bind(params: Mapping[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL, a busy timeout and foreign keys on."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


class SqliteStore:
    """Store on one SQLite file."""

    def __init__(self, path: str) -> None:
        self._path = path

    async def connect(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._reader = connect(self._path)
        self._writer_connection = connect(self._path)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, work, self._writer_connection)

    def _read_user(self, query: str, params: Mapping[str, object]) -> User | None:
        row = self._reader.execute(query, _bind(params)).fetchone()
        return None if row is None else user_from_row(row, _to_datetime)

    async def create_user(self, new: NewUser) -> User:
        def insert(connection: sqlite3.Connection) -> int:
            try:
                row = connection.execute(sql.INSERT_USER, _bind(new_user_params(new))).fetchone()
            except sqlite3.IntegrityError as error:
                raise ConflictError(conflict_field(str(error))) from error
            return int(row[0])

        user_id = await self._write(insert)
        user = self._read_user(sql.USER_BY_ID, {"id": user_id})
        assert user is not None  # noqa: S101 just inserted
        return user

    async def get_user(self, user_id: int) -> User | None:
        return self._read_user(sql.USER_BY_ID, {"id": user_id})

    async def get_user_by_username_key(self, key: str) -> User | None:
        return self._read_user(sql.USER_BY_USERNAME_KEY, {"key": key})

    async def get_user_by_email_key(self, key: str) -> User | None:
        return self._read_user(sql.USER_BY_EMAIL_KEY, {"key": key})

    async def list_users(self) -> list[User]:
        rows = self._reader.execute(sql.ALL_USERS).fetchall()
        return [user_from_row(row, _to_datetime) for row in rows]

    async def update_user(self, user_id: int, changes: UserChanges) -> User | None:
        query = sql.update_user(list(changes))

        def update(connection: sqlite3.Connection) -> None:
            try:
                connection.execute(query, _bind({**changes, "id": user_id}))
            except sqlite3.IntegrityError as error:
                raise ConflictError(conflict_field(str(error))) from error

        await self._write(update)
        return await self.get_user(user_id)

    async def delete_user(self, user_id: int) -> None:
        await self._write(lambda c: c.execute(sql.DELETE_USER, {"id": user_id}))

    async def get_principal(self, digest: str) -> Principal | None:
        row = self._reader.execute(sql.PRINCIPAL_BY_TOKEN_DIGEST, {"digest": digest}).fetchone()
        return None if row is None else principal_from_row(row, digest, _to_datetime)

    async def create_token(self, record: TokenRecord) -> None:
        params = _bind(new_token_params(record))

        def insert(connection: sqlite3.Connection) -> None:
            try:
                connection.execute(sql.INSERT_TOKEN, params)
            except sqlite3.IntegrityError as error:  # the user was deleted meanwhile
                raise NotFoundError from error

        await self._write(insert)

    async def touch_token(self, digest: str, at: datetime) -> None:
        params = {"digest": digest, "at": at.isoformat()}
        await self._write(lambda c: c.execute(sql.TOUCH_TOKEN, params))

    async def delete_token(self, digest: str) -> None:
        await self._write(lambda c: c.execute(sql.DELETE_TOKEN, {"digest": digest}))

    async def delete_user_tokens(self, user_id: int) -> int:
        def delete(connection: sqlite3.Connection) -> int:
            return connection.execute(sql.DELETE_USER_TOKENS, {"user_id": user_id}).rowcount

        return await self._write(delete)

    async def append_revocation(self, user_id: int, at: datetime) -> None:
        params = {"user_id": user_id, "created_at": at.isoformat()}
        await self._write(lambda c: c.execute(sql.APPEND_REVOCATION, params))

    async def last_revocation_id(self) -> int:
        return int(self._reader.execute(sql.LAST_REVOCATION_ID).fetchone()[0])

    async def revocations_after(self, after: int) -> list[tuple[int, int]]:
        rows = self._reader.execute(sql.REVOCATIONS_AFTER, {"after": after}).fetchall()
        return [(int(row[0]), int(row[1])) for row in rows]

    async def prune_revocations(self, before: datetime) -> None:
        params = {"before": before.isoformat()}
        await self._write(lambda c: c.execute(sql.PRUNE_REVOCATIONS, params))

    async def blacklist_jti(
        self, jti: str, user_id: int, expires_at: datetime, at: datetime
    ) -> bool:
        params = _bind({"jti": jti, "user_id": user_id, "expires_at": expires_at, "created_at": at})

        def insert(connection: sqlite3.Connection) -> bool:
            try:
                return connection.execute(sql.BLACKLIST_JTI, params).rowcount == 1
            except sqlite3.IntegrityError as error:  # the user was deleted meanwhile
                raise NotFoundError from error

        return await self._write(insert)

    async def is_jti_blacklisted(self, jti: str) -> bool:
        return self._reader.execute(sql.JTI_BLACKLISTED, {"jti": jti}).fetchone() is not None

    async def prune_jwt_blacklist(self, before: datetime) -> None:
        params = {"before": before.isoformat()}
        await self._write(lambda c: c.execute(sql.PRUNE_JWT_BLACKLIST, params))

    async def get_jwt_subject(self, user_id: int) -> tuple[User, int] | None:
        row = self._reader.execute(sql.JWT_SUBJECT, {"id": user_id}).fetchone()
        return None if row is None else (user_from_row(row, _to_datetime), int(row["jwt_version"]))

    async def bump_jwt_version(self, user_id: int) -> None:
        def bump(connection: sqlite3.Connection) -> None:
            # A user who is gone has no JWT left to end.
            with contextlib.suppress(sqlite3.IntegrityError):
                connection.execute(sql.BUMP_JWT_VERSION, {"user_id": user_id})

        await self._write(bump)

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._writer_connection.close()
        self._reader.close()
