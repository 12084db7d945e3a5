"""The user search of the admin, in the database (SQLite and PostgreSQL): a LIKE on the
username, email and names, ignoring case, with `%`, `_` and `\\` taken literally, paged by id."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authgate.core.errors import PermissionDeniedError
from authgate.core.identity import email_key, username_key
from authgate.core.models import NewUser, User, UserSearch
from authgate.mailer import LogMailer
from authgate.store import Store
from tests.store.test_directory_store import JOINED, with_store


async def add_user(
    store: Store, username: str, email: str = "", first: str = "", last: str = ""
) -> User:
    """A user written straight to the store (no password: searches only read them)."""
    return await store.create_user(
        NewUser(
            username=username,
            username_key=username_key(username),
            email=email,
            email_key=email_key(email),
            password_hash="!",
            is_active=True,
            date_joined=JOINED,
            first_name=first,
            last_name=last,
        )
    )


async def _names(store: Store, text: str, *, after_id: int = 0, limit: int = 50) -> list[str]:
    return [u.username for u in await store.search_users(UserSearch(text, after_id, limit))]


def test_search_matches_any_column_ignoring_case_and_wildcards_literally(
    database_url: str,
) -> None:
    async def work(store: Store) -> None:
        await add_user(store, "john", "John.Smith@Example.com", "John", "Smith")
        await add_user(store, "jane_doe", "jane@example.org", "Jane", "Doe")
        await add_user(store, "janeXdoe", "x@example.org")
        await add_user(store, "percent", "p@example.org", "100%", "Sure")
        await add_user(store, "back", "b@example.org", "C:\\Users", "")
        await add_user(store, "elodie", "", "Élodie", "Ŝtraße")
        await add_user(store, "Admin", "")
        assert await _names(store, "") == [
            "john", "jane_doe", "janeXdoe", "percent", "back", "elodie", "Admin",
        ]  # fmt: skip
        assert await _names(store, "JOHN") == ["john"]
        assert await _names(store, "smith@example") == ["john"]  # the email
        assert await _names(store, "sMiTh") == ["john"]  # the last name, and the email
        # A wildcard in the search is a character to find, not a wildcard.
        assert await _names(store, "_") == ["jane_doe"]
        assert await _names(store, "e_d") == ["jane_doe"]
        assert await _names(store, "%") == ["percent"]
        assert await _names(store, "0%") == ["percent"]
        assert await _names(store, "%%") == []
        assert await _names(store, "\\") == ["back"]
        assert await _names(store, "\\%") == []
        # Unicode case and compatibility forms, alike on both databases.
        assert await _names(store, "éLODIE") == ["elodie"]
        assert await _names(store, "ŝtraße") == ["elodie"]
        assert await _names(store, "ＡＤＭＩＮ") == ["Admin"]  # usernames by their key
        assert await _names(store, "nobody") == []
        assert await _names(store, "' OR 1=1 --") == []

    with_store(database_url, work)


def test_search_pages_by_id(database_url: str) -> None:
    async def work(store: Store) -> None:
        made = [await add_user(store, f"user{i}", f"user{i}@example.com") for i in range(7)]
        await add_user(store, "other")
        first = await store.search_users(UserSearch("user", 0, 3))
        assert [u.username for u in first] == ["user0", "user1", "user2"]
        second = await _names(store, "USER", after_id=first[-1].id, limit=3)
        assert second == ["user3", "user4", "user5"]
        assert await _names(store, "user", after_id=made[5].id, limit=3) == ["user6"]
        assert await _names(store, "user", after_id=made[6].id, limit=3) == []
        assert await _names(store, "", after_id=made[6].id) == ["other"]

    with_store(database_url, work)


def test_only_staff_search(database_url: str, make_settings) -> None:
    from authgate.composition import build_core

    async def work(store: Store) -> None:
        core = build_core(make_settings(), store, LogMailer())
        try:
            john = await add_user(store, "john")
            with pytest.raises(PermissionDeniedError):
                await core.users.search(john, "j")
            boss = replace(john, is_staff=True)
            assert [u.id for u in await core.users.search(boss, " jo ")] == [john.id]
        finally:
            await core.close()

    with_store(database_url, work)
