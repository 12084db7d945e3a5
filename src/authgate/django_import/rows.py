"""Rows as read from either database, in one shape, with the values' types settled.

SQLite hands back text for datetimes (Django writes `2026-11-25 16:42:06.123456`, authgate an
ISO string with its offset) and integers for booleans; PostgreSQL hands back aware datetimes
and booleans. Everything is compared and written in one form: aware UTC datetimes, bools.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class SourceUser:
    """A user of the Django database."""

    id: int
    username: str
    password: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    date_joined: datetime | None
    """None when a custom model has no such field: the import time is used for new users."""
    last_login: datetime | None


@dataclass(frozen=True, slots=True)
class SourceToken:
    """A DRF token: its key (the secret clients hold) and when it was created."""

    key: str
    user_id: int
    created: datetime


@dataclass(frozen=True, slots=True)
class TargetUser:
    """A user already in authgate's database (the columns the import compares)."""

    id: int
    username: str
    username_key: str
    email: str
    email_key: str
    first_name: str
    last_name: str
    password: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    date_joined: datetime
    last_login: datetime | None


def as_datetime(value: object) -> datetime | None:
    """A stored timestamp as an aware UTC datetime. Naive values are UTC: Django with USE_TZ
    (the default since Django 5.0) stores UTC, and SQLite keeps no offset."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_bool(value: object) -> bool:
    """A stored boolean (SQLite: 0/1, PostgreSQL: bool)."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "t", "true"}
    return bool(value)


def as_text(value: object) -> str:
    """A text column that may hold NULL in a custom model: NULL reads as empty."""
    return "" if value is None else str(value)
