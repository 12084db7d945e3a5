"""The Store protocol: exactly the queries the core needs, and the row-to-record mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from authgate.core.models import NewUser, Principal, TokenRecord, User

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

    async def list_users(self) -> list[User]:
        """Every user, by id."""
        ...

    async def update_user(self, user_id: int, changes: UserChanges) -> User | None:
        """Change columns of a user (ConflictError on a taken unique key); None if gone."""
        ...

    async def delete_user(self, user_id: int) -> None:
        """Delete a user and, by cascade, their tokens."""
        ...

    async def get_principal(self, digest: str) -> Principal | None:
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

    async def prune_jwt_blacklist(self, before: datetime) -> None:
        """Forget used jtis of tokens that expired before `before`."""
        ...

    async def get_jwt_subject(self, user_id: int) -> tuple[User, int] | None:
        """The user and their JWT generation (0 if never bumped), in one read."""
        ...

    async def bump_jwt_version(self, user_id: int) -> None:
        """End every JWT issued to the user so far (no-op for a user that is gone)."""
        ...

    async def connect(self) -> None:
        """Open connections; called once before the first query."""
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
    )


def principal_from_row(
    row: Any, digest: str, to_datetime: Callable[[Any], datetime | None]
) -> Principal:
    """Build a Principal from a row of sql.PRINCIPAL_BY_TOKEN_DIGEST."""
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
    return Principal(user=user, token=token)


def new_user_params(new: NewUser) -> dict[str, object]:
    """Parameters of sql.INSERT_USER."""
    return {
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
    }


def new_token_params(record: TokenRecord) -> dict[str, object]:
    """Parameters of sql.INSERT_TOKEN."""
    return {
        "digest": record.digest,
        "user_id": record.user_id,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
    }


def conflict_field(constraint_text: str) -> str:
    """Which user field a unique-violation message or constraint name is about."""
    return "email" if "email_key" in constraint_text else "username"
