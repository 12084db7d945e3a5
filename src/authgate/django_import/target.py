"""authgate's own tables, read and written with SQLAlchemy Core on a synchronous connection.

The columns are untyped (`table()`/`column()` named after store/schema.py), and values are
bound as authgate's stores bind them: on SQLite, timestamps are ISO strings with their offset
(what store/drivers/sqlite.py writes and parses back); on PostgreSQL, aware datetimes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import (
    Connection,
    RowMapping,
    and_,
    column,
    func,
    inspect,
    or_,
    select,
    table,
    text,
)

from authgate.core.identity import username_skeletons
from authgate.django_import.rows import TargetUser, as_bool, as_datetime, as_text
from authgate.store.schema import auth_token, auth_user, revocation

USERS = table("auth_user", *(column(c.name) for c in auth_user.c))
TOKENS = table("auth_token", *(column(c.name) for c in auth_token.c))
REVOCATIONS = table("revocation", *(column(c.name) for c in revocation.c))


class TargetView(Protocol):
    """What the import reads from authgate's database."""

    def users_by_ids(self, ids: Collection[int]) -> dict[int, TargetUser]:
        """authgate's users with these ids."""
        ...

    def users_by_keys(
        self, username_keys: Collection[str], email_keys: Collection[str]
    ) -> list[TargetUser]:
        """authgate's users holding any of these username or email keys, or a look-alike
        skeleton of one of the usernames."""
        ...

    def token_owners(self, digests: Collection[str]) -> dict[str, int]:
        """The user id of each of these token digests that is stored."""
        ...


class EmptyTarget:
    """A database with no authgate tables yet, as a dry run sees it (it migrates nothing)."""

    def users_by_ids(self, ids: Collection[int]) -> dict[int, TargetUser]:
        return {}

    def users_by_keys(
        self, username_keys: Collection[str], email_keys: Collection[str]
    ) -> list[TargetUser]:
        return []

    def token_owners(self, digests: Collection[str]) -> dict[str, int]:
        return {}


def _target_user(row: RowMapping) -> TargetUser:
    date_joined = as_datetime(row["date_joined"])
    assert date_joined is not None  # noqa: S101 NOT NULL column
    return TargetUser(
        id=int(row["id"]),
        username=as_text(row["username"]),
        username_key=as_text(row["username_key"]),
        email=as_text(row["email"]),
        email_key=as_text(row["email_key"]),
        first_name=as_text(row["first_name"]),
        last_name=as_text(row["last_name"]),
        password=as_text(row["password"]),
        is_active=as_bool(row["is_active"]),
        is_staff=as_bool(row["is_staff"]),
        is_superuser=as_bool(row["is_superuser"]),
        date_joined=date_joined,
        last_login=as_datetime(row["last_login"]),
    )


class AuthgateTarget:
    """Reads and writes on a migrated authgate database."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @staticmethod
    def is_migrated(connection: Connection) -> bool:
        """Whether authgate's tables exist (a dry run against a new database finds none)."""
        found = inspect(connection).has_table("auth_user")
        connection.rollback()
        return found

    def _bind(self, values: Mapping[str, object]) -> dict[str, object]:
        return bound(self._connection, values)

    def users_by_ids(self, ids: Collection[int]) -> dict[int, TargetUser]:
        if not ids:
            return {}
        rows = self._connection.execute(select(USERS).where(USERS.c.id.in_(list(ids))))
        return {user.id: user for user in map(_target_user, rows.mappings())}

    def users_by_keys(
        self, username_keys: Collection[str], email_keys: Collection[str]
    ) -> list[TargetUser]:
        emails = [key for key in email_keys if key]
        skeletons = [username_skeletons(key) for key in username_keys]
        # `!= ''` lets SQLite use the partial unique index on email_key (store/schema.py).
        condition = or_(
            USERS.c.username_key.in_(list(username_keys)),
            USERS.c.username_skeleton_lower.in_([lower for lower, _ in skeletons]),
            USERS.c.username_skeleton_upper.in_([upper for _, upper in skeletons]),
            and_(USERS.c.email_key.in_(emails), USERS.c.email_key != ""),
        )
        rows = self._connection.execute(select(USERS).where(condition))
        return [_target_user(row) for row in rows.mappings()]

    def token_owners(self, digests: Collection[str]) -> dict[str, int]:
        if not digests:
            return {}
        query = select(TOKENS.c.digest, TOKENS.c.user_id).where(TOKENS.c.digest.in_(list(digests)))
        return {str(d): int(u) for d, u in self._connection.execute(query)}

    def insert_users(self, rows: Sequence[Mapping[str, object]]) -> None:
        """New users, with Django's ids (one executemany per batch)."""
        if rows:
            self._connection.execute(USERS.insert(), [self._bind(row) for row in rows])

    def update_user(self, user_id: int, changes: Mapping[str, object]) -> None:
        """Change some columns of a user."""
        query = USERS.update().where(USERS.c.id == user_id).values(self._bind(changes))
        self._connection.execute(query)

    def insert_tokens(self, rows: Sequence[Mapping[str, object]]) -> None:
        """DRF tokens as digests: rows of digest, user_id, created_at, expires_at."""
        if rows:
            self._connection.execute(TOKENS.insert(), [self._bind(row) for row in rows])

    def publish_revocation(self, user_id: int, at: datetime) -> None:
        """Tell running authgate workers to forget what they cached about a changed user."""
        publish_revocation(self._connection, user_id, at)

    def advance_id_sequence(self) -> None:
        """After explicit ids, new users must get ids above them."""
        advance_id_sequence(self._connection, "auth_user")


def publish_revocation(connection: Connection, user_id: int, at: datetime) -> None:
    """Append to the feed that running authgate workers follow (core/revocations.py): they
    forget what they cached about the user, or about everyone for ALL_USERS."""
    values = bound(connection, {"user_id": user_id, "created_at": at})
    connection.execute(REVOCATIONS.insert().values(values))


def bound(connection: Connection, values: Mapping[str, object]) -> dict[str, object]:
    """Values as authgate's store binds them on this connection's database."""
    if connection.dialect.name != "sqlite":
        return dict(values)
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def advance_id_sequence(connection: Connection, name: str) -> None:
    """After explicit ids, make PostgreSQL's sequence of `name`.id hand out ids above them
    (SQLite's AUTOINCREMENT follows explicit ids by itself). It never moves back."""
    if connection.dialect.name == "sqlite":
        return
    highest = connection.execute(select(func.max(table(name, column("id")).c.id))).scalar()
    if highest is None:
        return
    connection.execute(
        text(
            "SELECT setval(pg_get_serial_sequence(:name, 'id'), :highest)"
            " WHERE :highest > COALESCE((SELECT last_value FROM pg_sequences"
            " WHERE schemaname || '.' || sequencename = pg_get_serial_sequence(:name, 'id')), 0)"
        ),
        {"name": name, "highest": int(highest)},
    )
