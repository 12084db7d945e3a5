"""The Store, once, for every database: store/sql.py's queries run by a driver (store/driver.py)
and mapped by store/rows.py. What differs between SQLite and PostgreSQL is in the driver (how a
query runs, binds and fails) or in sql.py (the few texts that take a dialect)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from authgate.core.errors import ConflictError, NotFoundError
from authgate.core.models import (
    AuditBucket,
    AuditCounts,
    AuditEvent,
    AuditQuery,
    Group,
    LinkName,
    NewUser,
    OverviewNumbers,
    Permission,
    SessionRecord,
    TokenPrincipal,
    TokenRecord,
    Town,
    User,
    UserLinks,
    UserSearch,
)
from authgate.store import sql
from authgate.store.driver import (
    Driver,
    NoSuchTableError,
    Params,
    PooledDriver,
    Row,
    RowGoneError,
    RowNotFoundError,
    Step,
    UniqueKeyTakenError,
)
from authgate.store.protocol import UserChanges
from authgate.store.rows import (
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
    town_of,
    user_from_row,
    user_links_from_row,
    user_search,
    utc_bucket,
)

T = TypeVar("T")
NO_ENDED_LOGINS: frozenset[str] = frozenset()


class SqlStore:
    """Store over one database's driver."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._dialect = driver.dialect
        self._to_datetime = driver.to_datetime

    async def connect(self) -> None:
        await self._driver.connect()

    async def close(self) -> None:
        await self._driver.close()

    async def schema_revision(self) -> str | None:
        try:
            row = await self._driver.fetch_one(sql.SCHEMA_REVISION)
        except NoSuchTableError:
            return None
        return None if row is None else str(row[0])

    # Users

    async def _read_user(self, query: str, params: Params) -> User | None:
        row = await self._driver.fetch_one(query, params)
        return None if row is None else user_from_row(row, self._to_datetime)

    async def _write_user(self, query: str, params: Params) -> User | None:
        """A write to auth_user returning the user as written (None: no row changed);
        ConflictError(the field) when it takes a unique key."""
        try:
            row = await self._driver.write_returning(query, params)
        except UniqueKeyTakenError as error:
            raise ConflictError(conflict_field(error.detail)) from error
        return None if row is None else user_from_row(row, self._to_datetime)

    async def create_user(self, new: NewUser) -> User:
        try:
            row = await self._driver.write_returning(sql.INSERT_USER, new_user_params(new))
        except UniqueKeyTakenError as error:
            raise ConflictError(conflict_field(error.detail)) from error
        assert row is not None  # noqa: S101 RETURNING id
        user = await self.get_user(int(row[0]))
        assert user is not None  # noqa: S101 just inserted
        return user

    async def get_user(self, user_id: int) -> User | None:
        return await self._read_user(sql.USER_BY_ID, {"id": user_id})

    async def get_user_by_username_key(self, key: str) -> User | None:
        return await self._read_user(sql.USER_BY_USERNAME_KEY, {"key": key})

    async def get_user_by_email_key(self, key: str) -> User | None:
        return await self._read_user(sql.USER_BY_EMAIL_KEY, {"key": key})

    async def username_taken(self, columns: Mapping[str, str]) -> bool:
        return await self._driver.fetch_one(sql.USERNAME_TAKEN, columns) is not None

    async def users_without_skeleton(self) -> list[tuple[int, str, str | None, str | None]]:
        rows = await self._driver.fetch_all(sql.USERS_WITHOUT_SKELETON)
        return [(int(r[0]), r[1], r[2], r[3]) for r in rows]

    async def list_users(self) -> list[User]:
        rows = await self._driver.fetch_all(sql.ALL_USERS)
        return [user_from_row(row, self._to_datetime) for row in rows]

    async def search_users(self, search: UserSearch) -> list[User]:
        query, params = user_search(search)
        rows = await self._driver.fetch_all(query, params)
        return [user_from_row(row, self._to_datetime) for row in rows]

    async def update_user(self, user_id: int, changes: UserChanges) -> User | None:
        return await self._write_user(sql.update_user(list(changes)), {**changes, "id": user_id})

    async def update_user_if(
        self, user_id: int, expected: UserChanges, changes: UserChanges
    ) -> User | None:
        query = sql.update_user_if(list(changes), expected)
        params = {**changes, **sql.expected_params(expected), "id": user_id}
        return await self._write_user(query, params)

    async def record_login(
        self,
        user_id: int,
        verified_hash: str,
        changes: UserChanges,
        token: TokenRecord | None = None,
    ) -> User | None:
        queries = sql.login_writes(tuple(changes), self._dialect, with_token=token is not None)
        expected = {"password": verified_hash, "is_active": True}
        params = {**changes, **sql.expected_params(expected), "id": user_id}
        token_params = {} if token is None else new_token_params(token)
        first, *rest = queries
        steps = [Step(first, params | token_params, must_find=True)]
        steps += [Step(query, token_params) for query in rest]
        try:
            rows = await self._driver.transaction(steps)
        except RowNotFoundError:
            return None
        return user_from_row(rows[0], self._to_datetime)

    async def delete_user(self, user_id: int) -> None:
        await self._driver.write(sql.DELETE_USER, {"id": user_id})

    # Opaque tokens

    async def get_principal(self, digest: str) -> TokenPrincipal | None:
        row = await self._driver.fetch_one(sql.PRINCIPAL_BY_TOKEN_DIGEST, {"digest": digest})
        return None if row is None else principal_from_row(row, digest, self._to_datetime)

    async def create_token_if_verified(self, record: TokenRecord, password_hash: str) -> bool:
        params = {**new_token_params(record), "password": password_hash}
        query = sql.INSERT_TOKEN_IF_VERIFIED[self._dialect]
        return await self._driver.write(query, params) == 1

    async def touch_token(self, digest: str, at: datetime) -> None:
        await self._driver.write(sql.TOUCH_TOKEN, {"digest": digest, "at": at})

    async def delete_token(self, digest: str) -> None:
        await self._driver.write(sql.DELETE_TOKEN, {"digest": digest})

    async def delete_user_tokens(self, user_id: int) -> int:
        return await self._driver.write(sql.DELETE_USER_TOKENS, {"user_id": user_id})

    async def list_user_tokens(self, user_id: int) -> list[TokenRecord]:
        rows = await self._driver.fetch_all(sql.USER_TOKENS, {"user_id": user_id})
        return [token_of(row, self._to_datetime) for row in rows]

    async def delete_user_token(self, user_id: int, digest: str) -> bool:
        params = {"digest": digest, "user_id": user_id}
        return await self._driver.write(sql.DELETE_USER_TOKEN, params) == 1

    # The revocation feed

    async def append_revocation(self, user_id: int, at: datetime) -> None:
        # Rows must become visible in id order (sql.REVOCATION_ORDER_LOCK).
        locks = [Step(lock) for lock in sql.REVOCATION_ORDER_LOCK[self._dialect]]
        insert = Step(sql.APPEND_REVOCATION, {"user_id": user_id, "created_at": at})
        await self._driver.transaction([*locks, insert])

    async def last_revocation_id(self) -> int:
        row = await self._driver.fetch_one(sql.LAST_REVOCATION_ID)
        assert row is not None  # noqa: S101 an aggregate has a row
        return int(row[0])

    async def revocations_after(self, after: int) -> list[tuple[int, int]]:
        rows = await self._driver.fetch_all(sql.REVOCATIONS_AFTER, {"after": after})
        return [(int(row[0]), int(row[1])) for row in rows]

    async def prune_revocations(self, before: datetime) -> None:
        await self._driver.write(sql.PRUNE_REVOCATIONS, {"before": before})

    # JWTs

    async def blacklist_jti(
        self, jti: str, user_id: int, expires_at: datetime, at: datetime
    ) -> bool:
        params = {"jti": jti, "user_id": user_id, "expires_at": expires_at, "created_at": at}
        try:
            return await self._driver.write(sql.BLACKLIST_JTI, params) == 1
        except RowGoneError as error:  # the user was deleted meanwhile
            raise NotFoundError from error

    async def is_jti_blacklisted(self, jti: str) -> bool:
        return await self._driver.fetch_one(sql.JTI_BLACKLISTED, {"jti": jti}) is not None

    async def jti_used_at(self, jti: str) -> datetime | None:
        row = await self._driver.fetch_one(sql.JTI_USED_AT, {"jti": jti})
        return None if row is None else self._to_datetime(row[0])

    async def prune_jwt_blacklist(self, before: datetime) -> None:
        await self._driver.write(sql.PRUNE_JWT_BLACKLIST, {"before": before})
        await self._driver.write(sql.PRUNE_JWT_ENDED_SESSIONS, {"before": before})

    async def end_jwt_session(self, sid: str, user_id: int, expires_at: datetime) -> None:
        params = {"sid": sid, "user_id": user_id, "expires_at": expires_at}
        try:
            await self._driver.write(sql.END_JWT_SESSION, params)
        except RowGoneError:
            return  # a user who is gone has no session left to end

    async def get_jwt_subject(self, user_id: int) -> tuple[User, int, frozenset[str]] | None:
        rows = await self._driver.fetch_all(sql.JWT_SUBJECT, {"id": user_id})
        if not rows:
            return None
        # Most users have no ended login: they share one empty set, not one each (a cached
        # subject per JWT user, core/jwt_cache.py: some 200 bytes apiece).
        ended = (
            frozenset(str(row["ended_sid"]) for row in rows if row["ended_sid"] is not None)
            or NO_ENDED_LOGINS
        )
        return user_from_row(rows[0], self._to_datetime), int(rows[0]["jwt_version"]), ended

    async def bump_jwt_version(self, user_id: int) -> int | None:
        try:
            row = await self._driver.write_returning(sql.BUMP_JWT_VERSION, {"user_id": user_id})
        except RowGoneError:
            return None  # a user who is gone has no JWT left to end
        assert row is not None  # noqa: S101 RETURNING version
        return int(row[0])

    # The users/towns API's records

    async def _insert_named(self, query: str, params: Params, taken: str) -> int:
        """An insert returning the new id, a unique violation raising ConflictError(taken)."""
        try:
            row = await self._driver.write_returning(query, params)
        except UniqueKeyTakenError as error:
            raise ConflictError(taken) from error
        assert row is not None  # noqa: S101 RETURNING id
        return int(row[0])

    async def _rename(self, query: str, row_id: int, name: str) -> bool:
        """Rename a town or group; False if it is gone, ConflictError("name") if taken."""
        try:
            return await self._driver.write(query, {"id": row_id, "name": name}) == 1
        except UniqueKeyTakenError as error:
            raise ConflictError("name") from error

    async def _delete_one(self, query: str, row_id: int) -> bool:
        return await self._driver.write(query, {"id": row_id}) == 1

    async def _one(self, record_of: Callable[[Row], T], query: str, params: Params) -> T | None:
        """The record of a read's one row, or None."""
        row = await self._driver.fetch_one(query, params)
        return None if row is None else record_of(row)

    async def list_towns(self) -> list[Town]:
        return [town_of(row) for row in await self._driver.fetch_all(sql.ALL_TOWNS)]

    async def get_town(self, town_id: int) -> Town | None:
        return await self._one(town_of, sql.TOWN_BY_ID, {"id": town_id})

    async def get_town_by_name(self, name: str) -> Town | None:
        return await self._one(town_of, sql.TOWN_BY_NAME, {"name": name})

    async def create_town(self, name: str) -> Town:
        return Town(id=await self._insert_named(sql.INSERT_TOWN, {"name": name}, "name"), name=name)

    async def rename_town(self, town_id: int, name: str) -> Town | None:
        renamed = await self._rename(sql.RENAME_TOWN, town_id, name)
        return Town(id=town_id, name=name) if renamed else None

    async def delete_town(self, town_id: int) -> bool:
        return await self._delete_one(sql.DELETE_TOWN, town_id)

    async def list_groups(self) -> list[Group]:
        return [group_of(row) for row in await self._driver.fetch_all(sql.ALL_GROUPS)]

    async def get_group(self, group_id: int) -> Group | None:
        return await self._one(group_of, sql.GROUP_BY_ID, {"id": group_id})

    async def get_group_by_name(self, name: str) -> Group | None:
        return await self._one(group_of, sql.GROUP_BY_NAME, {"name": name})

    async def create_group(self, name: str) -> Group:
        group_id = await self._insert_named(sql.INSERT_GROUP, {"name": name}, "name")
        return Group(id=group_id, name=name)

    async def rename_group(self, group_id: int, name: str) -> Group | None:
        renamed = await self._rename(sql.RENAME_GROUP, group_id, name)
        return Group(id=group_id, name=name) if renamed else None

    async def delete_group(self, group_id: int) -> bool:
        return await self._delete_one(sql.DELETE_GROUP, group_id)

    async def list_permissions(self) -> list[Permission]:
        return [permission_of(row) for row in await self._driver.fetch_all(sql.ALL_PERMISSIONS)]

    async def get_permission(self, permission_id: int) -> Permission | None:
        return await self._one(permission_of, sql.PERMISSION_BY_ID, {"id": permission_id})

    async def get_permission_by_codename(self, codename: str) -> Permission | None:
        query, params = sql.PERMISSION_BY_CODENAME, {"codename": codename}
        return await self._one(permission_of, query, params)

    async def create_permission(self, name: str, codename: str) -> Permission:
        params = {"name": name, "codename": codename}
        permission_id = await self._insert_named(sql.INSERT_PERMISSION, params, "codename")
        return Permission(id=permission_id, name=name, codename=codename)

    async def delete_permission(self, permission_id: int) -> bool:
        return await self._delete_one(sql.DELETE_PERMISSION, permission_id)

    async def existing_ids(self, link: LinkName, ids: Sequence[int]) -> set[int]:
        query = sql.LINKS[link].existing(self._dialect)
        rows = await self._driver.fetch_all(query, {"ids": self._driver.id_array(ids)})
        return {int(row[0]) for row in rows}

    async def linked_ids(self, link: LinkName, owner_id: int) -> list[int]:
        rows = await self._driver.fetch_all(sql.LINKS[link].select, {"owner": owner_id})
        return [int(row[0]) for row in rows]

    async def all_links(self, link: LinkName) -> dict[int, list[int]]:
        return links_by_owner(await self._driver.fetch_all(sql.LINKS[link].select_all))

    async def set_links(self, link: LinkName, owner_id: int, target_ids: Sequence[int]) -> None:
        table = sql.LINKS[link]
        owner = {"owner": owner_id}
        targets = [{"owner": owner_id, "target": t} for t in dict.fromkeys(target_ids)]
        # One transaction: readers see the old links or the new ones.
        steps = [
            Step(table.owner_exists(self._dialect), owner, must_find=True),
            Step(table.clear, owner),
            Step(table.add, rows=targets, many=True),
        ]
        try:
            await self._driver.transaction(steps)
        except RowNotFoundError as error:
            raise NotFoundError from error

    async def get_user_with_links(self, user_id: int) -> tuple[User, UserLinks] | None:
        row = await self._driver.fetch_one(sql.USER_WITH_LINKS[self._dialect], {"id": user_id})
        return (
            None
            if row is None
            else (user_from_row(row, self._to_datetime), user_links_from_row(row))
        )

    async def get_permission_codenames(self, user_id: int) -> list[str]:
        rows = await self._driver.fetch_all(sql.USER_PERMISSION_CODENAMES, {"id": user_id})
        return [str(row[0]) for row in rows]

    # The audit log and the overview

    async def append_audit(self, *events: AuditEvent) -> None:
        await self._driver.write_many(sql.APPEND_AUDIT, [audit_params(e) for e in events])

    async def audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        rows = await self._driver.fetch_all(sql.audit_events(query), query.params())
        return [audit_event_of(row, self._to_datetime) for row in rows]

    async def prune_audit(self, before: datetime) -> int:
        return await self._driver.write(sql.PRUNE_AUDIT, {"before": before})

    def _utc(self, value: datetime) -> object:
        """A time in UTC as a read's parameter (SQLite compares the stored UTC text)."""
        return self._driver.bind_time(value.astimezone(UTC))

    async def audit_counts(self, since: datetime, bucket: AuditBucket) -> list[AuditCounts]:
        query = sql.audit_counts(bucket, self._dialect)
        rows = await self._driver.fetch_all(query, {"since": self._utc(since)})
        return [audit_counts_of(row, utc_bucket(row[0])) for row in rows]

    async def overview_numbers(self, now: datetime, locked_since: datetime) -> OverviewNumbers:
        params = {"now": self._utc(now), "locked_since": self._utc(locked_since)}
        row = await self._driver.fetch_one(sql.OVERVIEW_NUMBERS, params)
        assert row is not None  # noqa: S101 aggregates have a row
        return overview_numbers_of(row)

    # Browser sessions

    async def create_session(self, record: SessionRecord) -> None:
        try:
            await self._driver.write(sql.INSERT_SESSION, session_params(record))
        except RowGoneError as error:  # the user was deleted meanwhile
            raise NotFoundError from error

    async def get_session(self, digest: str) -> tuple[User, SessionRecord] | None:
        row = await self._driver.fetch_one(sql.SESSION_BY_DIGEST, {"digest": digest})
        if row is None:
            return None
        to_datetime = self._to_datetime
        return user_from_row(row, to_datetime), session_of(row, to_datetime, "session_")

    async def touch_session(self, digest: str, at: datetime) -> None:
        await self._driver.write(sql.TOUCH_SESSION, {"digest": digest, "at": at})

    async def delete_session(self, user_id: int, digest: str) -> bool:
        params = {"digest": digest, "user_id": user_id}
        return await self._driver.write(sql.DELETE_SESSION, params) == 1

    async def delete_user_sessions(self, user_id: int) -> int:
        return await self._driver.write(sql.DELETE_USER_SESSIONS, {"user_id": user_id})

    async def list_user_sessions(self, user_id: int) -> list[SessionRecord]:
        rows = await self._driver.fetch_all(sql.USER_SESSIONS, {"user_id": user_id})
        return [session_of(row, self._to_datetime) for row in rows]

    async def prune_sessions(self, before: datetime) -> int:
        return await self._driver.write(sql.PRUNE_SESSIONS, {"before": before})


class PooledSqlStore(SqlStore):
    """SqlStore over a pooled driver (PostgreSQL's): the metrics show its pool's figures."""

    def __init__(self, driver: PooledDriver) -> None:
        super().__init__(driver)
        self._pooled = driver

    def pool_usage(self) -> tuple[int, int]:
        """(connections in use now, acquisitions so far that had to wait for one)."""
        return self._pooled.pool_usage()
