"""Store on an asyncpg pool; the queries of sql.py with :name rewritten to $n once."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import asyncpg

from authgate.core.errors import ConflictError, NotFoundError
from authgate.core.groups import Group, Permission
from authgate.core.models import (
    AuditCounts,
    AuditEvent,
    AuditQuery,
    NewUser,
    OverviewNumbers,
    TokenPrincipal,
    TokenRecord,
    User,
    UserSearch,
)
from authgate.core.records import UserLinks
from authgate.core.sessions import SessionRecord
from authgate.core.towns import Town
from authgate.store import sql
from authgate.store.base import (
    UserChanges,
    audit_counts_of,
    audit_event_of,
    audit_params,
    conflict_field,
    group_of,
    links_by_owner,
    new_token_params,
    new_user_params,
    overview_numbers_of,
    permission_of,
    principal_from_row,
    session_of,
    session_params,
    token_of,
    user_from_row,
    user_links_from_rows,
    user_search,
)
from authgate.store.bounded_pool import BoundedPool

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

    def __init__(self, url: str, *, pool_size: int, timeout_seconds: float = 5.0) -> None:
        self._url = url
        self._pool_size = pool_size
        self._timeout = timeout_seconds

    async def connect(self) -> None:
        # Bounded waits: with PostgreSQL away a request fails (503) within the timeout instead
        # of hanging; the pool opens fresh connections once it is back.
        pool = await asyncpg.create_pool(
            self._url,
            # No floor to keep: asyncpg would restore it in the background during an outage,
            # logging a traceback at every try. The revocation poll keeps a connection in use.
            min_size=0,
            max_size=self._pool_size,
            timeout=self._timeout,
            command_timeout=self._timeout,
        )
        # ...and with PostgreSQL frozen rather than away, within the timeout too: waiting for
        # a pooled connection and giving it back included (store/bounded_pool.py).
        self._pool = BoundedPool(pool, self._timeout)

    async def _fetchrow(self, query: str, params: Mapping[str, object]) -> Any:
        text, args = _args(query, params)
        return await self._pool.fetchrow(text, *args)

    async def _execute(self, query: str, params: Mapping[str, object]) -> str:
        text, args = _args(query, params)
        try:
            return await self._pool.execute(text, *args)
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

    async def username_taken(self, columns: Mapping[str, str]) -> bool:
        return await self._fetchrow(sql.USERNAME_TAKEN, columns) is not None

    async def users_without_skeleton(self) -> list[tuple[int, str, str | None, str | None]]:
        rows = await self._pool.fetch(sql.USERS_WITHOUT_SKELETON)
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows]

    async def list_users(self) -> list[User]:
        rows = await self._pool.fetch(sql.ALL_USERS)
        return [user_from_row(row, _to_datetime) for row in rows]

    async def search_users(self, search: UserSearch) -> list[User]:
        query, params = user_search(search)
        return [user_from_row(row, _to_datetime) for row in await self._fetch(query, params)]

    async def update_user(self, user_id: int, changes: UserChanges) -> User | None:
        await self._execute(sql.update_user(list(changes)), {**changes, "id": user_id})
        return await self.get_user(user_id)

    async def update_user_if(
        self, user_id: int, expected: UserChanges, changes: UserChanges
    ) -> User | None:
        query = sql.update_user_if(list(changes), expected)
        params = {**changes, **sql.expected_params(expected), "id": user_id}
        status = await self._execute(query, params)
        return await self.get_user(user_id) if status == "UPDATE 1" else None

    async def delete_user(self, user_id: int) -> None:
        await self._execute(sql.DELETE_USER, {"id": user_id})

    async def get_principal(self, digest: str) -> TokenPrincipal | None:
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
        async with self._pool.transaction() as connection:
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

    async def jti_used_at(self, jti: str) -> datetime | None:
        row = await self._fetchrow(sql.JTI_USED_AT, {"jti": jti})
        return None if row is None else _to_datetime(row["created_at"])

    async def prune_jwt_blacklist(self, before: datetime) -> None:
        await self._execute(sql.PRUNE_JWT_BLACKLIST, {"before": before})
        await self._execute(sql.PRUNE_JWT_ENDED_SESSIONS, {"before": before})

    async def end_jwt_session(self, sid: str, user_id: int, expires_at: datetime) -> None:
        params = {"sid": sid, "user_id": user_id, "expires_at": expires_at}
        try:
            await self._execute(sql.END_JWT_SESSION, params)
        except asyncpg.ForeignKeyViolationError:
            return  # a user who is gone has no session left to end

    async def get_jwt_subject(self, user_id: int) -> tuple[User, int, frozenset[str]] | None:
        rows = await self._fetch(sql.JWT_SUBJECT, {"id": user_id})
        if not rows:
            return None
        ended = frozenset(str(row["ended_sid"]) for row in rows if row["ended_sid"] is not None)
        return user_from_row(rows[0], _to_datetime), int(rows[0]["jwt_version"]), ended

    async def bump_jwt_version(self, user_id: int) -> int | None:
        try:
            row = await self._fetchrow(sql.BUMP_JWT_VERSION, {"user_id": user_id})
        except asyncpg.ForeignKeyViolationError:
            return None  # a user who is gone has no JWT left to end
        return int(row["version"])

    # The users/towns API's records

    async def _fetch(self, query: str, params: Mapping[str, object]) -> list[Any]:
        text, args = _args(query, params)
        return await self._pool.fetch(text, *args)

    async def _insert_named(self, query: str, params: Mapping[str, object], taken: str) -> int:
        """An insert returning the new id, a unique violation raising ConflictError(taken)."""
        try:
            row = await self._fetchrow(query, params)
        except asyncpg.UniqueViolationError as error:
            raise ConflictError(taken) from error
        return int(row["id"])

    async def _delete_one(self, query: str, row_id: int) -> bool:
        return await self._execute(query, {"id": row_id}) == "DELETE 1"

    async def list_towns(self) -> list[Town]:
        rows = await self._pool.fetch(sql.ALL_TOWNS)
        return [Town(id=int(row["id"]), name=row["name"]) for row in rows]

    async def get_town(self, town_id: int) -> Town | None:
        row = await self._fetchrow(sql.TOWN_BY_ID, {"id": town_id})
        return None if row is None else Town(id=int(row["id"]), name=row["name"])

    async def get_town_by_name(self, name: str) -> Town | None:
        row = await self._fetchrow(sql.TOWN_BY_NAME, {"name": name})
        return None if row is None else Town(id=int(row["id"]), name=row["name"])

    async def create_town(self, name: str) -> Town:
        return Town(id=await self._insert_named(sql.INSERT_TOWN, {"name": name}, "name"), name=name)

    async def _rename(self, query: str, row_id: int, name: str) -> bool:
        """Rename a town or group; False if it is gone, ConflictError("name") if taken."""
        text, args = _args(query, {"id": row_id, "name": name})
        try:
            status = await self._pool.execute(text, *args)
        except asyncpg.UniqueViolationError as error:
            raise ConflictError("name") from error
        return status == "UPDATE 1"

    async def rename_town(self, town_id: int, name: str) -> Town | None:
        renamed = await self._rename(sql.RENAME_TOWN, town_id, name)
        return Town(id=town_id, name=name) if renamed else None

    async def delete_town(self, town_id: int) -> bool:
        return await self._delete_one(sql.DELETE_TOWN, town_id)

    async def list_groups(self) -> list[Group]:
        rows = await self._pool.fetch(sql.ALL_GROUPS)
        return [group_of(row) for row in rows]

    async def get_group(self, group_id: int) -> Group | None:
        row = await self._fetchrow(sql.GROUP_BY_ID, {"id": group_id})
        return None if row is None else group_of(row)

    async def get_group_by_name(self, name: str) -> Group | None:
        row = await self._fetchrow(sql.GROUP_BY_NAME, {"name": name})
        return None if row is None else group_of(row)

    async def create_group(self, name: str) -> Group:
        group_id = await self._insert_named(sql.INSERT_GROUP, {"name": name}, "name")
        return Group(id=group_id, name=name)

    async def rename_group(self, group_id: int, name: str) -> Group | None:
        renamed = await self._rename(sql.RENAME_GROUP, group_id, name)
        return Group(id=group_id, name=name) if renamed else None

    async def delete_group(self, group_id: int) -> bool:
        return await self._delete_one(sql.DELETE_GROUP, group_id)

    async def list_permissions(self) -> list[Permission]:
        rows = await self._pool.fetch(sql.ALL_PERMISSIONS)
        return [permission_of(row) for row in rows]

    async def get_permission(self, permission_id: int) -> Permission | None:
        row = await self._fetchrow(sql.PERMISSION_BY_ID, {"id": permission_id})
        return None if row is None else permission_of(row)

    async def get_permission_by_codename(self, codename: str) -> Permission | None:
        row = await self._fetchrow(sql.PERMISSION_BY_CODENAME, {"codename": codename})
        return None if row is None else permission_of(row)

    async def create_permission(self, name: str, codename: str) -> Permission:
        params = {"name": name, "codename": codename}
        permission_id = await self._insert_named(sql.INSERT_PERMISSION, params, "codename")
        return Permission(id=permission_id, name=name, codename=codename)

    async def delete_permission(self, permission_id: int) -> bool:
        return await self._delete_one(sql.DELETE_PERMISSION, permission_id)

    async def existing_ids(self, link: sql.LinkName, ids: Sequence[int]) -> set[int]:
        rows = await self._fetch(sql.LINKS[link].existing_postgres, {"ids": list(ids)})
        return {int(row[0]) for row in rows}

    async def linked_ids(self, link: sql.LinkName, owner_id: int) -> list[int]:
        rows = await self._fetch(sql.LINKS[link].select, {"owner": owner_id})
        return [int(row[0]) for row in rows]

    async def all_links(self, link: sql.LinkName) -> dict[int, list[int]]:
        return links_by_owner(await self._pool.fetch(sql.LINKS[link].select_all))

    async def set_links(self, link: sql.LinkName, owner_id: int, target_ids: Sequence[int]) -> None:
        table = sql.LINKS[link]
        # The owner's row is locked first, so two replacements of one owner's links run one
        # after the other (else both could clear, then both insert). NO KEY UPDATE leaves
        # inserts that only reference the row (a login's token) free to proceed.
        lock, lock_args = _args(table.owner_exists + " FOR NO KEY UPDATE", {"owner": owner_id})
        clear, clear_args = _args(table.clear, {"owner": owner_id})
        add, _ = _args(table.add, {"owner": owner_id, "target": 0})
        rows = [(owner_id, t) for t in dict.fromkeys(target_ids)]
        async with self._pool.transaction() as connection:
            if await connection.fetchrow(lock, *lock_args) is None:
                raise NotFoundError
            await connection.execute(clear, *clear_args)
            if rows:
                await connection.executemany(add, rows)

    async def get_user_links(self, user_id: int) -> UserLinks:
        return user_links_from_rows(await self._fetch(sql.USER_LINKS, {"id": user_id}))

    async def get_permission_codenames(self, user_id: int) -> list[str]:
        rows = await self._fetch(sql.USER_PERMISSION_CODENAMES, {"id": user_id})
        return [str(row[0]) for row in rows]

    async def append_audit(self, *events: AuditEvent) -> None:
        text, _ = _positional(sql.APPEND_AUDIT)
        rows = [_args(sql.APPEND_AUDIT, audit_params(event))[1] for event in events]
        # One round trip and one transaction for the batch (asyncpg pipelines executemany).
        await self._pool.executemany(text, rows)

    async def audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        text, args = _args(sql.audit_events(query), query.params())
        rows = await self._pool.fetch(text, *args)
        return [audit_event_of(row, _to_datetime) for row in rows]

    async def prune_audit(self, before: datetime) -> int:
        status = await self._execute(sql.PRUNE_AUDIT, {"before": before})
        return int(status.rsplit(" ", 1)[-1])

    async def audit_counts(self, since: datetime, bucket: sql.AuditBucket) -> list[AuditCounts]:
        rows = await self._fetch(sql.audit_counts(bucket, postgres=True), {"since": since})
        # date_trunc of a UTC wall time gives a naive timestamp: it is UTC.
        return [audit_counts_of(row, row[0].replace(tzinfo=UTC)) for row in rows]

    async def overview_numbers(self, now: datetime, locked_since: datetime) -> OverviewNumbers:
        params = {"now": now, "locked_since": locked_since}
        return overview_numbers_of(await self._fetchrow(sql.OVERVIEW_NUMBERS, params))

    # Browser sessions and the admin's view of tokens

    async def create_session(self, record: SessionRecord) -> None:
        try:
            await self._execute(sql.INSERT_SESSION, session_params(record))
        except asyncpg.ForeignKeyViolationError as error:  # the user was deleted meanwhile
            raise NotFoundError from error

    async def get_session(self, digest: str) -> tuple[User, SessionRecord] | None:
        row = await self._fetchrow(sql.SESSION_BY_DIGEST, {"digest": digest})
        if row is None:
            return None
        return user_from_row(row, _to_datetime), session_of(row, _to_datetime, "session_")

    async def touch_session(self, digest: str, at: datetime) -> None:
        await self._execute(sql.TOUCH_SESSION, {"digest": digest, "at": at})

    async def delete_session(self, user_id: int, digest: str) -> bool:
        params = {"digest": digest, "user_id": user_id}
        return await self._execute(sql.DELETE_SESSION, params) == "DELETE 1"

    async def delete_user_sessions(self, user_id: int) -> int:
        status = await self._execute(sql.DELETE_USER_SESSIONS, {"user_id": user_id})
        return int(status.rsplit(" ", 1)[-1])

    async def list_user_sessions(self, user_id: int) -> list[SessionRecord]:
        rows = await self._fetch(sql.USER_SESSIONS, {"user_id": user_id})
        return [session_of(row, _to_datetime) for row in rows]

    async def prune_sessions(self, before: datetime) -> int:
        status = await self._execute(sql.PRUNE_SESSIONS, {"before": before})
        return int(status.rsplit(" ", 1)[-1])

    async def list_user_tokens(self, user_id: int) -> list[TokenRecord]:
        rows = await self._fetch(sql.USER_TOKENS, {"user_id": user_id})
        return [token_of(row, _to_datetime) for row in rows]

    async def delete_user_token(self, user_id: int, digest: str) -> bool:
        params = {"digest": digest, "user_id": user_id}
        return await self._execute(sql.DELETE_USER_TOKEN, params) == "DELETE 1"

    def pool_usage(self) -> tuple[int, int]:
        """(connections in use now, acquisitions so far that had to wait for one), for the
        metrics."""
        return self._pool.in_use, self._pool.waits

    async def schema_revision(self) -> str | None:
        try:
            revision = await self._pool.fetchval(sql.SCHEMA_REVISION)
        except asyncpg.UndefinedTableError:
            return None
        return None if revision is None else str(revision)

    async def close(self) -> None:
        await self._pool.close()
