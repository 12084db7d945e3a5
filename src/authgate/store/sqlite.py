"""Store on the stdlib sqlite3 driver: reads inline on the event loop, writes on one thread.

Indexed reads take microseconds, so they run on the loop without a thread hop (the hot path);
writes may wait on the file lock, so they run on a single writer thread and never block the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

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

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000


def _to_datetime(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _utc_text(value: datetime) -> str:
    """A time as the text it is stored as (ISO, UTC), for comparing with stored times."""
    return value.astimezone(UTC).isoformat()


def _bind(params: Mapping[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}


def _lower(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    return value.lower() if isinstance(value, str) else value


@contextlib.contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT on the writer's connection (autocommit otherwise); any error
    rolls the whole transaction back."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL, a busy timeout and foreign keys on, whose
    LOWER() is Python's str.lower: SQLite's own lowers ASCII only, PostgreSQL's every letter,
    and the user search (sql.search_users) must fold names alike on both."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.create_function("lower", 1, _lower, deterministic=True)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def write_problem(path: str) -> str | None:
    """Why SQLite cannot write the file at `path` (its own words), or None. A read-only file or
    mount opens and reads fine; only a write tells, so one is tried and rolled back."""
    if path == ":memory:":
        return None
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    except (OSError, sqlite3.Error) as error:
        return str(error)
    try:
        connection.execute("BEGIN IMMEDIATE")
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        connection.execute(f"PRAGMA user_version = {version}")
        connection.execute("ROLLBACK")
    except sqlite3.Error as error:
        return str(error)
    finally:
        connection.close()
    return None


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

    async def username_taken(self, columns: Mapping[str, str]) -> bool:
        return self._reader.execute(sql.USERNAME_TAKEN, dict(columns)).fetchone() is not None

    async def users_without_skeleton(self) -> list[tuple[int, str, str | None, str | None]]:
        rows = self._reader.execute(sql.USERS_WITHOUT_SKELETON).fetchall()
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows]

    async def list_users(self) -> list[User]:
        rows = self._reader.execute(sql.ALL_USERS).fetchall()
        return [user_from_row(row, _to_datetime) for row in rows]

    async def search_users(self, search: UserSearch) -> list[User]:
        query, params = user_search(search)
        rows = self._reader.execute(query, params).fetchall()
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

    async def update_user_if(
        self, user_id: int, expected: UserChanges, changes: UserChanges
    ) -> User | None:
        query = sql.update_user_if(list(changes), expected)
        params = _bind({**changes, **sql.expected_params(expected), "id": user_id})

        def update(connection: sqlite3.Connection) -> int:
            try:
                return connection.execute(query, params).rowcount
            except sqlite3.IntegrityError as error:
                raise ConflictError(conflict_field(str(error))) from error

        return await self.get_user(user_id) if await self._write(update) == 1 else None

    async def delete_user(self, user_id: int) -> None:
        await self._write(lambda c: c.execute(sql.DELETE_USER, {"id": user_id}))

    async def get_principal(self, digest: str) -> TokenPrincipal | None:
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

    async def jti_used_at(self, jti: str) -> datetime | None:
        row = self._reader.execute(sql.JTI_USED_AT, {"jti": jti}).fetchone()
        return None if row is None else _to_datetime(row[0])

    async def prune_jwt_blacklist(self, before: datetime) -> None:
        params = {"before": before.isoformat()}

        def prune(connection: sqlite3.Connection) -> None:
            connection.execute(sql.PRUNE_JWT_BLACKLIST, params)
            connection.execute(sql.PRUNE_JWT_ENDED_SESSIONS, params)

        await self._write(prune)

    async def end_jwt_session(self, sid: str, user_id: int, expires_at: datetime) -> None:
        params = _bind({"sid": sid, "user_id": user_id, "expires_at": expires_at})

        def insert(connection: sqlite3.Connection) -> None:
            try:
                connection.execute(sql.END_JWT_SESSION, params)
            except sqlite3.IntegrityError:
                return  # a user who is gone has no session left to end

        await self._write(insert)

    async def get_jwt_subject(self, user_id: int) -> tuple[User, int, frozenset[str]] | None:
        rows = self._reader.execute(sql.JWT_SUBJECT, {"id": user_id}).fetchall()
        if not rows:
            return None
        ended = frozenset(str(row["ended_sid"]) for row in rows if row["ended_sid"] is not None)
        return user_from_row(rows[0], _to_datetime), int(rows[0]["jwt_version"]), ended

    async def bump_jwt_version(self, user_id: int) -> int | None:
        def bump(connection: sqlite3.Connection) -> int | None:
            try:
                row = connection.execute(sql.BUMP_JWT_VERSION, {"user_id": user_id}).fetchone()
            except sqlite3.IntegrityError:
                return None  # a user who is gone has no JWT left to end
            return int(row[0])

        return await self._write(bump)

    # The users/towns API's records

    def _insert_named(
        self, query: str, params: Mapping[str, object], taken: str
    ) -> Callable[[sqlite3.Connection], int]:
        """An insert returning the new id, a unique violation raising ConflictError(taken)."""

        def insert(connection: sqlite3.Connection) -> int:
            try:
                return int(connection.execute(query, params).fetchone()[0])
            except sqlite3.IntegrityError as error:
                raise ConflictError(taken) from error

        return insert

    async def _delete_one(self, query: str, row_id: int) -> bool:
        return await self._write(lambda c: c.execute(query, {"id": row_id}).rowcount == 1)

    async def list_towns(self) -> list[Town]:
        rows = self._reader.execute(sql.ALL_TOWNS).fetchall()
        return [Town(id=int(row["id"]), name=row["name"]) for row in rows]

    async def get_town(self, town_id: int) -> Town | None:
        row = self._reader.execute(sql.TOWN_BY_ID, {"id": town_id}).fetchone()
        return None if row is None else Town(id=int(row["id"]), name=row["name"])

    async def get_town_by_name(self, name: str) -> Town | None:
        row = self._reader.execute(sql.TOWN_BY_NAME, {"name": name}).fetchone()
        return None if row is None else Town(id=int(row["id"]), name=row["name"])

    async def create_town(self, name: str) -> Town:
        town_id = await self._write(self._insert_named(sql.INSERT_TOWN, {"name": name}, "name"))
        return Town(id=town_id, name=name)

    async def _rename(self, query: str, row_id: int, name: str) -> bool:
        """Rename a town or group; False if it is gone, ConflictError("name") if taken."""

        def rename(connection: sqlite3.Connection) -> bool:
            try:
                return connection.execute(query, {"id": row_id, "name": name}).rowcount == 1
            except sqlite3.IntegrityError as error:
                raise ConflictError("name") from error

        return await self._write(rename)

    def _read_one(self, query: str, params: Mapping[str, object]) -> Any:
        return self._reader.execute(query, params).fetchone()

    async def rename_town(self, town_id: int, name: str) -> Town | None:
        renamed = await self._rename(sql.RENAME_TOWN, town_id, name)
        return Town(id=town_id, name=name) if renamed else None

    async def delete_town(self, town_id: int) -> bool:
        return await self._delete_one(sql.DELETE_TOWN, town_id)

    async def list_groups(self) -> list[Group]:
        rows = self._reader.execute(sql.ALL_GROUPS).fetchall()
        return [group_of(row) for row in rows]

    async def get_group(self, group_id: int) -> Group | None:
        row = self._read_one(sql.GROUP_BY_ID, {"id": group_id})
        return None if row is None else group_of(row)

    async def get_group_by_name(self, name: str) -> Group | None:
        row = self._read_one(sql.GROUP_BY_NAME, {"name": name})
        return None if row is None else group_of(row)

    async def create_group(self, name: str) -> Group:
        group_id = await self._write(self._insert_named(sql.INSERT_GROUP, {"name": name}, "name"))
        return Group(id=group_id, name=name)

    async def rename_group(self, group_id: int, name: str) -> Group | None:
        renamed = await self._rename(sql.RENAME_GROUP, group_id, name)
        return Group(id=group_id, name=name) if renamed else None

    async def delete_group(self, group_id: int) -> bool:
        return await self._delete_one(sql.DELETE_GROUP, group_id)

    async def list_permissions(self) -> list[Permission]:
        rows = self._reader.execute(sql.ALL_PERMISSIONS).fetchall()
        return [permission_of(row) for row in rows]

    async def get_permission(self, permission_id: int) -> Permission | None:
        row = self._read_one(sql.PERMISSION_BY_ID, {"id": permission_id})
        return None if row is None else permission_of(row)

    async def get_permission_by_codename(self, codename: str) -> Permission | None:
        row = self._read_one(sql.PERMISSION_BY_CODENAME, {"codename": codename})
        return None if row is None else permission_of(row)

    async def create_permission(self, name: str, codename: str) -> Permission:
        params = {"name": name, "codename": codename}
        insert = self._insert_named(sql.INSERT_PERMISSION, params, "codename")
        return Permission(id=await self._write(insert), name=name, codename=codename)

    async def delete_permission(self, permission_id: int) -> bool:
        return await self._delete_one(sql.DELETE_PERMISSION, permission_id)

    async def existing_ids(self, link: sql.LinkName, ids: Sequence[int]) -> set[int]:
        query = sql.LINKS[link].existing_sqlite
        rows = self._reader.execute(query, {"ids": json.dumps(list(ids))}).fetchall()
        return {int(row[0]) for row in rows}

    async def linked_ids(self, link: sql.LinkName, owner_id: int) -> list[int]:
        rows = self._reader.execute(sql.LINKS[link].select, {"owner": owner_id}).fetchall()
        return [int(row[0]) for row in rows]

    async def all_links(self, link: sql.LinkName) -> dict[int, list[int]]:
        return links_by_owner(self._reader.execute(sql.LINKS[link].select_all).fetchall())

    async def set_links(self, link: sql.LinkName, owner_id: int, target_ids: Sequence[int]) -> None:
        table = sql.LINKS[link]
        targets = [{"owner": owner_id, "target": t} for t in dict.fromkeys(target_ids)]

        def replace(connection: sqlite3.Connection) -> None:
            # One transaction on the one writer: readers see the old links or the new ones.
            with _transaction(connection):
                if connection.execute(table.owner_exists, {"owner": owner_id}).fetchone() is None:
                    raise NotFoundError
                connection.execute(table.clear, {"owner": owner_id})
                connection.executemany(table.add, targets)

        await self._write(replace)

    async def get_user_links(self, user_id: int) -> UserLinks:
        return user_links_from_rows(self._reader.execute(sql.USER_LINKS, {"id": user_id}))

    async def get_permission_codenames(self, user_id: int) -> list[str]:
        rows = self._reader.execute(sql.USER_PERMISSION_CODENAMES, {"id": user_id}).fetchall()
        return [str(row[0]) for row in rows]

    async def append_audit(self, *events: AuditEvent) -> None:
        rows = [_bind(audit_params(event)) for event in events]

        def insert(connection: sqlite3.Connection) -> None:
            with _transaction(connection):  # one commit for the batch, not one per entry
                connection.executemany(sql.APPEND_AUDIT, rows)

        await self._write(insert)

    async def audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        rows = self._reader.execute(sql.audit_events(query), query.params()).fetchall()
        return [audit_event_of(row, _to_datetime) for row in rows]

    async def prune_audit(self, before: datetime) -> int:
        params = {"before": before.isoformat()}
        return await self._write(lambda c: c.execute(sql.PRUNE_AUDIT, params).rowcount)

    async def audit_counts(self, since: datetime, bucket: sql.AuditBucket) -> list[AuditCounts]:
        query = sql.audit_counts(bucket, postgres=False)
        rows = self._reader.execute(query, {"since": _utc_text(since)}).fetchall()
        return [audit_counts_of(row, datetime.fromisoformat(row[0])) for row in rows]

    async def overview_numbers(self, now: datetime, locked_since: datetime) -> OverviewNumbers:
        params = {"now": _utc_text(now), "locked_since": _utc_text(locked_since)}
        return overview_numbers_of(self._reader.execute(sql.OVERVIEW_NUMBERS, params).fetchone())

    # Browser sessions and the admin's view of tokens

    async def create_session(self, record: SessionRecord) -> None:
        params = _bind(session_params(record))

        def insert(connection: sqlite3.Connection) -> None:
            try:
                connection.execute(sql.INSERT_SESSION, params)
            except sqlite3.IntegrityError as error:  # the user was deleted meanwhile
                raise NotFoundError from error

        await self._write(insert)

    async def get_session(self, digest: str) -> tuple[User, SessionRecord] | None:
        row = self._reader.execute(sql.SESSION_BY_DIGEST, {"digest": digest}).fetchone()
        if row is None:
            return None
        return user_from_row(row, _to_datetime), session_of(row, _to_datetime, "session_")

    async def touch_session(self, digest: str, at: datetime) -> None:
        params = {"digest": digest, "at": at.isoformat()}
        await self._write(lambda c: c.execute(sql.TOUCH_SESSION, params))

    async def delete_session(self, user_id: int, digest: str) -> bool:
        params = {"digest": digest, "user_id": user_id}
        return await self._write(lambda c: c.execute(sql.DELETE_SESSION, params).rowcount == 1)

    async def delete_user_sessions(self, user_id: int) -> int:
        params = {"user_id": user_id}
        return await self._write(lambda c: c.execute(sql.DELETE_USER_SESSIONS, params).rowcount)

    async def list_user_sessions(self, user_id: int) -> list[SessionRecord]:
        rows = self._reader.execute(sql.USER_SESSIONS, {"user_id": user_id}).fetchall()
        return [session_of(row, _to_datetime) for row in rows]

    async def prune_sessions(self, before: datetime) -> int:
        params = {"before": before.isoformat()}
        return await self._write(lambda c: c.execute(sql.PRUNE_SESSIONS, params).rowcount)

    async def list_user_tokens(self, user_id: int) -> list[TokenRecord]:
        rows = self._reader.execute(sql.USER_TOKENS, {"user_id": user_id}).fetchall()
        return [token_of(row, _to_datetime) for row in rows]

    async def delete_user_token(self, user_id: int, digest: str) -> bool:
        params = {"digest": digest, "user_id": user_id}
        return await self._write(lambda c: c.execute(sql.DELETE_USER_TOKEN, params).rowcount == 1)

    async def schema_revision(self) -> str | None:
        try:
            row = self._reader.execute(sql.SCHEMA_REVISION).fetchone()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return None
            raise
        return None if row is None else str(row[0])

    async def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._writer_connection.close()
        self._reader.close()
