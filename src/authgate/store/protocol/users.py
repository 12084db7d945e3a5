"""Users: the accounts (core/users.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from authgate.core.models import NewUser, TokenRecord, User, UserSearch

# Columns of a user and their new (or, for a compare-and-set, expected) values.
UserChanges = Mapping[str, object]


class UserStore(Protocol):
    """Users: the accounts (core/users.py)."""

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

    async def record_login(
        self,
        user_id: int,
        verified_hash: str,
        changes: UserChanges,
        token: TokenRecord | None = None,
    ) -> User | None:
        """A successful login's writes, only while the user is still active with the password
        hash the login verified (else None, and nothing written): `changes` (last_login, a
        rehashed password) and, given one, the login's new opaque token. One transaction, in
        one round trip (PostgreSQL) or one job of the writer (SQLite); the user as written."""
        ...

    async def delete_user(self, user_id: int) -> None:
        """Delete a user and, by cascade, their tokens."""
        ...
