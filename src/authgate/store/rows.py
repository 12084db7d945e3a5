"""Rows to the core's records and records to query parameters: the same for every database,
given how the driver reads its times back (Driver.to_datetime)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from authgate.core.models import (
    AuditCounts,
    AuditEvent,
    Group,
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

ToDatetime = Callable[[Any], "datetime | None"]


def user_from_row(row: Any, to_datetime: ToDatetime) -> User:
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
    username, email, name = search.folded()
    params |= {
        "username_pattern": sql.like_contains(username),
        "email_pattern": sql.like_contains(email),
        "name_pattern": sql.like_contains(name),
    }
    return sql.search_users(matching=True), params


def town_of(row: Any) -> Town:
    """A town from its row."""
    return Town(id=int(row["id"]), name=row["name"])


def group_of(row: Any) -> Group:
    """A group from its row."""
    return Group(id=int(row["id"]), name=row["name"])


def permission_of(row: Any) -> Permission:
    """A permission from its row."""
    return Permission(id=int(row["id"]), name=row["name"], codename=row["codename"])


def principal_from_row(row: Any, digest: str, to_datetime: ToDatetime) -> TokenPrincipal:
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
    lower, upper = new.username_skeletons
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


def user_links_from_row(row: Any) -> UserLinks:
    """UserLinks from the group_ids, permission_ids and town_ids of sql.USER_WITH_LINKS."""
    return UserLinks(
        group_ids=_ids(row["group_ids"]),
        permission_ids=_ids(row["permission_ids"]),
        town_ids=_ids(row["town_ids"]),
    )


def _ids(text: str | None) -> tuple[int, ...]:
    """Ascending ids from comma-separated text (an aggregate's, which keeps no order)."""
    return tuple(sorted(int(part) for part in text.split(","))) if text else ()


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


def audit_event_of(row: Any, to_datetime: ToDatetime) -> AuditEvent:
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


def session_of(row: Any, to_datetime: ToDatetime, prefix: str = "") -> SessionRecord:
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


def token_of(row: Any, to_datetime: ToDatetime) -> TokenRecord:
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


def utc_bucket(value: Any) -> datetime:
    """An audit_counts bucket as a UTC time: ISO text from SQLite, a naive UTC timestamp
    from PostgreSQL (date_trunc of a UTC wall time)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value)
