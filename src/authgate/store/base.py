"""The Store protocol: exactly the queries the core needs, and the row-to-record mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from authgate.core.groups import Group, Permission
from authgate.core.identity import email_key, username_key, username_skeletons
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
from authgate.store.sql import AuditBucket, LinkName

UserChanges = Mapping[str, object]


class Store(Protocol):
    """Persistent state of authgate. Backends: sqlite.py, postgres.py."""

    async def create_user(self, new: NewUser) -> User:
        """Insert a user; raises ConflictError("username"|"email") when a unique key is taken."""
        ...

    async def get_user(self, user_id: int) -> User | None:
        """The user with this id."""
        ...

    async def get_user_by_username_key(self, key: str) -> User | None:
        """The user whose normalised username is `key`."""
        ...

    async def get_user_by_email_key(self, key: str) -> User | None:
        """The user whose normalised email is `key`."""
        ...

    async def username_taken(self, columns: Mapping[str, str]) -> bool:
        """Whether a user holds any of a username's keys (identity.username_columns): the
        same name, or a look-alike. One read over unique indexes."""
        ...

    async def users_without_skeleton(self) -> list[tuple[int, str, str | None, str | None]]:
        """(id, username_key, skeleton_lower, skeleton_upper) of the users missing a skeleton
        (look-alikes of an older user from before migration 0009), by id."""
        ...

    async def list_users(self) -> list[User]:
        """Every user, by id."""
        ...

    async def search_users(self, search: UserSearch) -> list[User]:
        """A page of users, by id, as `search` says (user_search below)."""
        ...

    async def update_user(self, user_id: int, changes: UserChanges) -> User | None:
        """Change columns of a user (ConflictError on a taken unique key); None if gone."""
        ...

    async def update_user_if(
        self, user_id: int, expected: UserChanges, changes: UserChanges
    ) -> User | None:
        """update_user in one statement, only while the `expected` columns still hold those
        values (a compare-and-set: of concurrent callers expecting the same, exactly one
        wins); None if they no longer do, or the user is gone."""
        ...

    async def delete_user(self, user_id: int) -> None:
        """Delete a user and, by cascade, their tokens."""
        ...

    async def get_principal(self, digest: str) -> TokenPrincipal | None:
        """The token with this digest and its user, in one indexed read."""
        ...

    async def create_token(self, record: TokenRecord) -> None:
        """Store a new token digest; NotFoundError if its user no longer exists."""
        ...

    async def touch_token(self, digest: str, at: datetime) -> None:
        """Record that a token was used."""
        ...

    async def delete_token(self, digest: str) -> None:
        """Revoke one token."""
        ...

    async def delete_user_tokens(self, user_id: int) -> int:
        """Revoke every token of a user; returns how many."""
        ...

    async def append_revocation(self, user_id: int, at: datetime) -> None:
        """Add a row to the revocation feed; rows must become visible in id order."""
        ...

    async def last_revocation_id(self) -> int:
        """The id of the feed's newest row (0 when empty)."""
        ...

    async def revocations_after(self, after: int) -> list[tuple[int, int]]:
        """(id, user_id) of the feed's rows newer than `after`, oldest first."""
        ...

    async def prune_revocations(self, before: datetime) -> None:
        """Delete feed rows older than `before`."""
        ...

    async def blacklist_jti(
        self, jti: str, user_id: int, expires_at: datetime, at: datetime
    ) -> bool:
        """Record a used JWT refresh token; False if it was already recorded (a reuse).
        NotFoundError if the user no longer exists."""
        ...

    async def is_jti_blacklisted(self, jti: str) -> bool:
        """Whether a JWT's jti has been recorded as used."""
        ...

    async def jti_used_at(self, jti: str) -> datetime | None:
        """When a JWT's jti was recorded as used; None if it never was."""
        ...

    async def prune_jwt_blacklist(self, before: datetime) -> None:
        """Forget used jtis of tokens that expired before `before`, and ended logins whose
        tokens all expired before it."""
        ...

    async def end_jwt_session(self, sid: str, user_id: int, expires_at: datetime) -> None:
        """End a login (a JWT `sid` family) until `expires_at`; nothing if already ended or
        if the user is gone."""
        ...

    async def get_jwt_subject(self, user_id: int) -> tuple[User, int, frozenset[str]] | None:
        """The user, their JWT generation (0 if never bumped) and their ended logins' `sid`s,
        in one read."""
        ...

    async def bump_jwt_version(self, user_id: int) -> int | None:
        """End every JWT issued to the user so far: the user's new generation (None, and
        nothing done, for a user that is gone)."""
        ...

    # The users/towns API's records: towns, groups, permissions and what links them.

    async def list_towns(self) -> list[Town]:
        """Every town, by id."""
        ...

    async def get_town(self, town_id: int) -> Town | None:
        """The town with this id."""
        ...

    async def get_town_by_name(self, name: str) -> Town | None:
        """The town with exactly this name."""
        ...

    async def create_town(self, name: str) -> Town:
        """Insert a town; ConflictError("name") when the name is taken."""
        ...

    async def rename_town(self, town_id: int, name: str) -> Town | None:
        """Rename a town (ConflictError("name") when taken); None if it is gone."""
        ...

    async def delete_town(self, town_id: int) -> bool:
        """Delete a town and, by cascade, its links to users; False if there was none."""
        ...

    async def list_groups(self) -> list[Group]:
        """Every group, by id."""
        ...

    async def get_group(self, group_id: int) -> Group | None:
        """The group with this id."""
        ...

    async def get_group_by_name(self, name: str) -> Group | None:
        """The group with exactly this name."""
        ...

    async def create_group(self, name: str) -> Group:
        """Insert a group; ConflictError("name") when the name is taken."""
        ...

    async def rename_group(self, group_id: int, name: str) -> Group | None:
        """Rename a group (ConflictError("name") when taken); None if it is gone."""
        ...

    async def delete_group(self, group_id: int) -> bool:
        """Delete a group and its links; False if there was none."""
        ...

    async def list_permissions(self) -> list[Permission]:
        """Every permission, by id."""
        ...

    async def get_permission(self, permission_id: int) -> Permission | None:
        """The permission with this id."""
        ...

    async def get_permission_by_codename(self, codename: str) -> Permission | None:
        """The permission with exactly this codename."""
        ...

    async def create_permission(self, name: str, codename: str) -> Permission:
        """Insert a permission; ConflictError("codename") when the codename is taken."""
        ...

    async def delete_permission(self, permission_id: int) -> bool:
        """Delete a permission and its links; False if there was none."""
        ...

    async def existing_ids(self, link: LinkName, ids: Sequence[int]) -> set[int]:
        """Which of `ids` name a row of the link's target table."""
        ...

    async def linked_ids(self, link: LinkName, owner_id: int) -> list[int]:
        """The targets the owner links to, ascending."""
        ...

    async def all_links(self, link: LinkName) -> dict[int, list[int]]:
        """Every owner's targets (ascending), by owner; owners without any are left out."""
        ...

    async def set_links(self, link: LinkName, owner_id: int, target_ids: Sequence[int]) -> None:
        """Replace the owner's targets in one transaction (a target deleted meanwhile is
        skipped); NotFoundError if the owner is gone."""
        ...

    async def get_user_links(self, user_id: int) -> UserLinks:
        """The user's groups, own permissions and towns, in one read."""
        ...

    async def get_permission_codenames(self, user_id: int) -> list[str]:
        """Codenames of the user's own permissions and their groups', sorted."""
        ...

    async def connect(self) -> None:
        """Open connections; called once before the first query."""
        ...

    async def append_audit(self, *events: AuditEvent) -> None:
        """Add entries to the audit log, in order, in one transaction."""
        ...

    async def audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        """Audit entries, newest first, optionally of one user or kind, older than an id."""
        ...

    async def prune_audit(self, before: datetime) -> int:
        """Delete audit entries older than `before`; returns how many."""
        ...

    async def audit_counts(self, since: datetime, bucket: AuditBucket) -> list[AuditCounts]:
        """The overview's counts per hour or day (UTC) from `since` on, oldest first, in one
        aggregate query; buckets without an entry are left out."""
        ...

    async def overview_numbers(self, now: datetime, locked_since: datetime) -> OverviewNumbers:
        """Users, tokens and sessions live at `now`, logins locked since `locked_since`."""
        ...

    # Browser sessions (core/sessions.py) and a user's tokens, for the admin UI.

    async def create_session(self, record: SessionRecord) -> None:
        """Store a new session digest; NotFoundError if its user no longer exists."""
        ...

    async def get_session(self, digest: str) -> tuple[User, SessionRecord] | None:
        """The session with this digest and its user, in one indexed read."""
        ...

    async def touch_session(self, digest: str, at: datetime) -> None:
        """Record that a session was used."""
        ...

    async def delete_session(self, user_id: int, digest: str) -> bool:
        """End one session of this user; False if there was none."""
        ...

    async def delete_user_sessions(self, user_id: int) -> int:
        """End every session of a user; returns how many."""
        ...

    async def list_user_sessions(self, user_id: int) -> list[SessionRecord]:
        """The user's sessions, newest first (expired ones included until pruned)."""
        ...

    async def prune_sessions(self, before: datetime) -> int:
        """Delete sessions that expired before `before`; returns how many."""
        ...

    async def list_user_tokens(self, user_id: int) -> list[TokenRecord]:
        """The user's opaque tokens (digests only), newest first."""
        ...

    async def delete_user_token(self, user_id: int, digest: str) -> bool:
        """Revoke one token of this user; False if there was none."""
        ...

    async def schema_revision(self) -> str | None:
        """The Alembic revision the database is at; None when it has no schema yet. For
        /readyz (http/health.py), which compares it with store/revisions.py's head."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def user_from_row(row: Any, to_datetime: Callable[[Any], datetime | None]) -> User:
    """Build a User from a row holding sql.USER_COLUMNS (sqlite3.Row or asyncpg Record)."""
    date_joined = to_datetime(row["date_joined"])
    assert date_joined is not None  # noqa: S101 NOT NULL column
    return User(
        id=int(row["id"]),
        username=row["username"],
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        password_hash=row["password"],
        is_active=bool(row["is_active"]),
        is_staff=bool(row["is_staff"]),
        is_superuser=bool(row["is_superuser"]),
        role=row["role"],
        date_joined=date_joined,
        last_login=to_datetime(row["last_login"]),
        activation_requested_at=to_datetime(row["activation_requested_at"]),
    )


def user_search(search: UserSearch) -> tuple[str, dict[str, object]]:
    """The query and parameters of a search: the text is folded as each column's key is
    (usernames and emails by their normalised keys, names lowered), then matched literally
    anywhere in the column (sql.like_contains)."""
    params: dict[str, object] = {"after_id": search.after_id, "limit": search.limit}
    if not search.text:
        return sql.search_users(matching=False), params
    params |= {
        "username_pattern": sql.like_contains(username_key(search.text)),
        "email_pattern": sql.like_contains(email_key(search.text)),
        "name_pattern": sql.like_contains(search.text.lower()),
    }
    return sql.search_users(matching=True), params


def group_of(row: Any) -> Group:
    """A group from its row."""
    return Group(id=int(row["id"]), name=row["name"])


def permission_of(row: Any) -> Permission:
    """A permission from its row."""
    return Permission(id=int(row["id"]), name=row["name"], codename=row["codename"])


def principal_from_row(
    row: Any, digest: str, to_datetime: Callable[[Any], datetime | None]
) -> TokenPrincipal:
    """Build a TokenPrincipal from a row of sql.PRINCIPAL_BY_TOKEN_DIGEST."""
    user = user_from_row(row, to_datetime)
    created_at = to_datetime(row["token_created_at"])
    assert created_at is not None  # noqa: S101 NOT NULL column
    token = TokenRecord(
        digest=digest,
        user_id=user.id,
        created_at=created_at,
        expires_at=to_datetime(row["token_expires_at"]),
        last_used_at=to_datetime(row["token_last_used_at"]),
    )
    return TokenPrincipal(user=user, token=token)


def new_user_params(new: NewUser) -> dict[str, object]:
    """Parameters of sql.INSERT_USER; the skeletons follow from the key, whoever inserts."""
    lower, upper = username_skeletons(new.username_key)
    return {
        "username_skeleton_lower": lower,
        "username_skeleton_upper": upper,
        "username": new.username,
        "username_key": new.username_key,
        "email": new.email,
        "email_key": new.email_key,
        "first_name": new.first_name,
        "last_name": new.last_name,
        "password_hash": new.password_hash,
        "is_active": new.is_active,
        "is_staff": new.is_staff,
        "is_superuser": new.is_superuser,
        "role": new.role,
        "date_joined": new.date_joined,
        "activation_requested_at": new.activation_requested_at,
    }


def new_token_params(record: TokenRecord) -> dict[str, object]:
    """Parameters of sql.INSERT_TOKEN."""
    return {
        "digest": record.digest,
        "user_id": record.user_id,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
    }


def links_by_owner(rows: Iterable[Any]) -> dict[int, list[int]]:
    """The (owner, target) rows of sql.Link.select_all, grouped by owner."""
    found: dict[int, list[int]] = {}
    for owner, target in rows:
        found.setdefault(int(owner), []).append(int(target))
    return found


def user_links_from_rows(rows: Iterable[Any]) -> UserLinks:
    """UserLinks from the (kind, target_id) rows of sql.USER_LINKS."""
    found: dict[str, list[int]] = {"group": [], "permission": [], "town": []}
    for row in rows:
        found[row["kind"]].append(int(row["target_id"]))
    return UserLinks(
        group_ids=tuple(found["group"]),
        permission_ids=tuple(found["permission"]),
        town_ids=tuple(found["town"]),
    )


def conflict_field(constraint_text: str) -> str:
    """Which user field a unique-violation message or constraint name is about."""
    return "email" if "email_key" in constraint_text else "username"


def audit_params(event: AuditEvent) -> dict[str, object]:
    """The insert parameters of an audit entry."""
    return {
        "created_at": event.created_at,
        "event": event.event,
        "outcome": event.outcome,
        "user_id": event.user_id,
        "login": event.login,
        "address": event.address,
        "user_agent": event.user_agent,
        "reason": event.reason,
    }


def audit_counts_of(row: Sequence[Any], bucket: datetime) -> AuditCounts:
    """A bucket's counts from its row (the bucket, then the counts in AuditCounts' order)."""
    return AuditCounts(bucket, *(int(value or 0) for value in row[1:6]))


def overview_numbers_of(row: Sequence[Any]) -> OverviewNumbers:
    """The overview's figures from their one row."""
    return OverviewNumbers(*(int(value) for value in row[:5]))


def audit_event_of(row: Any, to_datetime: Callable[[Any], datetime | None]) -> AuditEvent:
    """An audit entry from its row."""
    created_at = to_datetime(row["created_at"])
    if created_at is None:
        raise ValueError("an audit entry without a time")
    return AuditEvent(
        event=row["event"],
        outcome=row["outcome"],
        created_at=created_at,
        user_id=row["user_id"],
        login=row["login"],
        address=row["address"],
        user_agent=row["user_agent"],
        reason=row["reason"],
        id=row["id"],
    )


def session_params(record: SessionRecord) -> dict[str, object]:
    """Parameters of sql.INSERT_SESSION."""
    return {
        "digest": record.digest,
        "user_id": record.user_id,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "last_used_at": record.last_used_at,
        "address": record.address,
        "user_agent": record.user_agent,
    }


def session_of(
    row: Any, to_datetime: Callable[[Any], datetime | None], prefix: str = ""
) -> SessionRecord:
    """A session from a row of sql.USER_SESSIONS, or (`prefix` "session_") of
    sql.SESSION_BY_DIGEST."""
    created_at = to_datetime(row[f"{prefix}created_at"])
    expires_at = to_datetime(row[f"{prefix}expires_at"])
    last_used_at = to_datetime(row[f"{prefix}last_used_at"])
    if created_at is None or expires_at is None or last_used_at is None:
        raise ValueError("a session without its times")
    return SessionRecord(
        digest=row[f"{prefix}digest"],
        user_id=int(row["user_id"] if not prefix else row["id"]),
        created_at=created_at,
        expires_at=expires_at,
        last_used_at=last_used_at,
        address=row[f"{prefix}address"],
        user_agent=row[f"{prefix}user_agent"],
    )


def token_of(row: Any, to_datetime: Callable[[Any], datetime | None]) -> TokenRecord:
    """A token record from a row of sql.USER_TOKENS."""
    created_at = to_datetime(row["created_at"])
    if created_at is None:
        raise ValueError("a token without a creation time")
    return TokenRecord(
        digest=row["digest"],
        user_id=int(row["user_id"]),
        created_at=created_at,
        expires_at=to_datetime(row["expires_at"]),
        last_used_at=to_datetime(row["last_used_at"]),
    )
