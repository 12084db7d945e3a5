"""Store on an asyncpg pool; the queries of sql.py with :name rewritten to $n once."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

import asyncpg

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

_PARAMETER = re.compile(r"(?<!:):([a-z_]+)")


def _to_datetime(value: Any) -> datetime | None:
    return value  # type: ignore[no-any-return]  # asyncpg already returns aware datetimes


@cache
def _positional(query: str) -> tuple[str, tuple[str, ...]]:
    """`... :a ... :b ... :a` -> (`... $1 ... $2 ... $1`, ("a", "b"))."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PARAMETER.sub(number, query), tuple(names)


def _args(query: str, params: Mapping[str, object]) -> tuple[str, list[object]]:
    text, names = _positional(query)
    return text, [params[name] for name in names]


class PostgresStore:
    """Store on a PostgreSQL database."""

    def __init__(self, url: str, *, pool_size: int) -> None:
        self._url = url
        self._pool_size = pool_size

    async def connect(self) -> None:
        self._pool = await asyncpg.create_pool(self._url, min_size=1, max_size=self._pool_size)

    async def _fetchrow(self, query: str, params: Mapping[str, object]) -> Any:
        text, args = _args(query, params)
        return await self._pool.fetchrow(text, *args)

    async def _execute(self, query: str, params: Mapping[str, object]) -> str:
        text, args = _args(query, params)
        try:
            return await self._pool.execute(text, *args)  # type: ignore[no-any-return]
        except asyncpg.UniqueViolationError as error:
            raise ConflictError(conflict_field(error.constraint_name or "")) from error

    async def _read_user(self, query: str, params: Mapping[str, object]) -> User | None:
        row = await self._fetchrow(query, params)
        return None if row is None else user_from_row(row, _to_datetime)

    async def create_user(self, new: NewUser) -> User:
        try:
            row = await self._fetchrow(sql.INSERT_USER, new_user_params(new))
        except asyncpg.UniqueViolationError as error:
            raise ConflictError(conflict_field(error.constraint_name or "")) from error
        user = await self.get_user(int(row["id"]))
        assert user is not None  # noqa: S101 just inserted
        return user

    async def get_user(self, user_id: int) -> User | None:
        return await self._read_user(sql.USER_BY_ID, {"id": user_id})

    async def get_user_by_username_key(self, key: str) -> User | None:
        return await self._read_user(sql.USER_BY_USERNAME_KEY, {"key": key})

    async def get_user_by_email_key(self, key: str) -> User | None:
        return await self._read_user(sql.USER_BY_EMAIL_KEY, {"key": key})

    async def list_users(self) -> list[User]:
        rows = await self._pool.fetch(sql.ALL_USERS)
        return [user_from_row(row, _to_datetime) for row in rows]

    async def update_user(self, user_id: int, changes: UserChanges) -> User | None:
        await self._execute(sql.update_user(list(changes)), {**changes, "id": user_id})
        return await self.get_user(user_id)

    async def delete_user(self, user_id: int) -> None:
        await self._execute(sql.DELETE_USER, {"id": user_id})

    async def get_principal(self, digest: str) -> Principal | None:
        row = await self._fetchrow(sql.PRINCIPAL_BY_TOKEN_DIGEST, {"digest": digest})
        return None if row is None else principal_from_row(row, digest, _to_datetime)

    async def create_token(self, record: TokenRecord) -> None:
        try:
            await self._create_token(record)
        except asyncpg.ForeignKeyViolationError as error:  # the user was deleted meanwhile
            raise NotFoundError from error

    async def _create_token(self, record: TokenRecord) -> None:
        await self._execute(sql.INSERT_TOKEN, new_token_params(record))

    async def touch_token(self, digest: str, at: datetime) -> None:
        await self._execute(sql.TOUCH_TOKEN, {"digest": digest, "at": at})

    async def delete_token(self, digest: str) -> None:
        await self._execute(sql.DELETE_TOKEN, {"digest": digest})

    async def delete_user_tokens(self, user_id: int) -> int:
        status = await self._execute(sql.DELETE_USER_TOKENS, {"user_id": user_id})
        return int(status.rsplit(" ", 1)[-1])

    async def append_revocation(self, user_id: int, at: datetime) -> None:
        text, args = _args(sql.APPEND_REVOCATION, {"user_id": user_id, "created_at": at})
        async with self._pool.acquire() as connection, connection.transaction():
            # Ids come from a sequence and concurrent inserts could commit out of id order, so a
            # reader past id N would miss a later-committed N-1. The lock orders the commits.
            await connection.execute("LOCK TABLE revocation IN SHARE ROW EXCLUSIVE MODE")
            await connection.execute(text, *args)

    async def last_revocation_id(self) -> int:
        return int(await self._pool.fetchval(sql.LAST_REVOCATION_ID))

    async def revocations_after(self, after: int) -> list[tuple[int, int]]:
        text, args = _args(sql.REVOCATIONS_AFTER, {"after": after})
        rows = await self._pool.fetch(text, *args)
        return [(int(row[0]), int(row[1])) for row in rows]

    async def prune_revocations(self, before: datetime) -> None:
        await self._execute(sql.PRUNE_REVOCATIONS, {"before": before})

    async def blacklist_jti(
        self, jti: str, user_id: int, expires_at: datetime, at: datetime
    ) -> bool:
        params = {"jti": jti, "user_id": user_id, "expires_at": expires_at, "created_at": at}
        try:
            status = await self._execute(sql.BLACKLIST_JTI, params)
        except asyncpg.ForeignKeyViolationError as error:  # the user was deleted meanwhile
            raise NotFoundError from error
        return status == "INSERT 0 1"

    async def is_jti_blacklisted(self, jti: str) -> bool:
        return await self._fetchrow(sql.JTI_BLACKLISTED, {"jti": jti}) is not None

    async def prune_jwt_blacklist(self, before: datetime) -> None:
        await self._execute(sql.PRUNE_JWT_BLACKLIST, {"before": before})

    async def get_jwt_subject(self, user_id: int) -> tuple[User, int] | None:
        row = await self._fetchrow(sql.JWT_SUBJECT, {"id": user_id})
        return None if row is None else (user_from_row(row, _to_datetime), int(row["jwt_version"]))

    async def bump_jwt_version(self, user_id: int) -> None:
        # A user who is gone has no JWT left to end.
        with contextlib.suppress(asyncpg.ForeignKeyViolationError):
            await self._execute(sql.BUMP_JWT_VERSION, {"user_id": user_id})

    async def close(self) -> None:
        await self._pool.close()
