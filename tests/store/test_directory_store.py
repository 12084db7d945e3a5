"""The users/towns API's records in both stores and the core's rules over them: towns, groups and
permissions, the links between them and users, and who may change what."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from authgate.core.audit import Audit
from authgate.core.directory import Directory
from authgate.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from authgate.core.models import NewUser, User, UserLinks
from authgate.store import Store, open_store
from tests.support import run

JOINED = datetime(2022, 3, 9, 5, 20, 2, 613644, tzinfo=UTC)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def records_over(store: Store, clock: FixedClock) -> Directory:
    """Directory over a store, auditing into it."""
    return Directory(store, clock, Audit(store, clock, retention_days=365))


def truncate_records(url: str) -> None:
    """No towns, groups or permissions left in a PostgreSQL database (SQLite files are fresh
    copies): every table emptied, as the shared fixture does (tests.conftest.empty_database),
    which costs a tenth of a TRUNCATE."""
    if not url.startswith(("postgresql://", "postgres://")):
        return
    from tests.conftest import empty_database

    empty_database(url)


@pytest.fixture
def url(database_url: str) -> str:
    truncate_records(database_url)
    return database_url


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[Store]:
    store = open_store(url)
    await store.connect()
    try:
        yield store
    finally:
        await store.close()


def with_store(url: str, work: Callable[[Store], Awaitable[None]]) -> None:
    async def main() -> None:
        async with connected(url) as store:
            await work(store)

    run(main())


async def new_user(store: Store, name: str, *, staff: bool = False) -> User:
    return await store.create_user(
        NewUser(
            username=name,
            username_key=name,
            email="",
            email_key="",
            password_hash="!",
            is_active=True,
            date_joined=JOINED,
            is_staff=staff,
        )
    )


def test_towns_are_created_listed_renamed_and_deleted(url: str) -> None:
    async def work(store: Store) -> None:
        moscow = await store.create_town("Moscow")
        kazan = await store.create_town("Kazan")
        assert [t.name for t in await store.list_towns()] == ["Moscow", "Kazan"]
        assert await store.get_town(kazan.id) == kazan
        assert await store.get_town_by_name("Moscow") == moscow
        assert await store.get_town_by_name("moscow") is None  # names compare exactly
        with pytest.raises(ConflictError):
            await store.create_town("Moscow")
        with pytest.raises(ConflictError):
            await store.rename_town(kazan.id, "Moscow")
        renamed = await store.rename_town(kazan.id, "Kazan-on-Volga")
        assert renamed is not None
        assert renamed.name == "Kazan-on-Volga"
        assert await store.rename_town(10**9, "Nowhere") is None
        assert await store.delete_town(moscow.id) is True
        assert await store.delete_town(moscow.id) is False
        assert await store.get_town(moscow.id) is None
        # A deleted town's id is never handed out again.
        again = await store.create_town("Moscow")
        assert again.id > kazan.id

    with_store(url, work)


def test_links_replace_whole_sets_and_go_with_either_end(url: str) -> None:
    async def work(store: Store) -> None:
        gleb = await new_user(store, "gleb")
        towns = [await store.create_town(name) for name in ("A", "B", "C")]
        ids = [t.id for t in towns]
        assert await store.existing_ids("user_towns", [ids[0], 10**9, ids[2]]) == {ids[0], ids[2]}
        await store.set_links("user_towns", gleb.id, [ids[2], ids[0], ids[2]])
        assert await store.linked_ids("user_towns", gleb.id) == [ids[0], ids[2]]
        await store.set_links("user_towns", gleb.id, [ids[1]])
        assert await store.linked_ids("user_towns", gleb.id) == [ids[1]]
        # A town deleted meanwhile is skipped, not an error: as if deleted just after.
        await store.set_links("user_towns", gleb.id, [ids[0], 10**9])
        assert await store.linked_ids("user_towns", gleb.id) == [ids[0]]
        await store.delete_town(ids[0])
        assert await store.linked_ids("user_towns", gleb.id) == []
        with pytest.raises(NotFoundError):
            await store.set_links("user_towns", 10**9, [ids[1]])
        await store.set_links("user_towns", gleb.id, [ids[1], ids[2]])
        await store.delete_user(gleb.id)
        assert await store.linked_ids("user_towns", gleb.id) == []

    with_store(url, work)


def test_user_links_and_effective_permissions_in_one_read(url: str) -> None:
    async def work(store: Store) -> None:
        gleb = await new_user(store, "gleb")
        view = await store.create_permission("Can view town", "view_town")
        change = await store.create_permission("Can change town", "change_town")
        audit = await store.create_permission("Can read the audit log", "view_audit")
        with pytest.raises(ConflictError):
            await store.create_permission("Again", "view_town")
        editors = await store.create_group("editors")
        with pytest.raises(ConflictError):
            await store.create_group("editors")
        town = await store.create_town("Tver")
        await store.set_links("group_permissions", editors.id, [change.id, view.id])
        await store.set_links("user_groups", gleb.id, [editors.id])
        await store.set_links("user_permissions", gleb.id, [audit.id, view.id])
        await store.set_links("user_towns", gleb.id, [town.id])
        assert await store.get_user_with_links(gleb.id) == (
            await store.get_user(gleb.id),
            UserLinks(
                group_ids=(editors.id,), permission_ids=(view.id, audit.id), town_ids=(town.id,)
            ),
        )
        assert await store.get_permission_codenames(gleb.id) == [
            "change_town",
            "view_audit",
            "view_town",
        ]
        await store.delete_group(editors.id)
        assert await store.get_permission_codenames(gleb.id) == ["view_audit", "view_town"]
        await store.delete_permission(audit.id)
        assert await store.get_user_with_links(gleb.id) == (
            await store.get_user(gleb.id),
            UserLinks(group_ids=(), permission_ids=(view.id,), town_ids=(town.id,)),
        )
        nobody = await new_user(store, "nobody")
        assert await store.get_user_with_links(nobody.id) == (nobody, UserLinks())
        assert await store.get_user_with_links(10**9) is None

    with_store(url, work)


def test_concurrent_replacements_of_one_users_links_never_mix(url: str) -> None:
    async def work(store: Store) -> None:
        gleb = await new_user(store, "gleb")
        towns = [(await store.create_town(f"T{i}")).id for i in range(6)]
        first, second = towns[:3], towns[3:]
        await asyncio.gather(
            *(store.set_links("user_towns", gleb.id, first if i % 2 else second) for i in range(10))
        )
        assert await store.linked_ids("user_towns", gleb.id) in (first, second)

    with_store(url, work)


def test_only_staff_change_towns_groups_and_permissions(url: str) -> None:
    async def work(store: Store) -> None:
        records = records_over(store, FixedClock(JOINED))
        staff = await new_user(store, "boss", staff=True)
        member = await new_user(store, "gleb")
        inactive_staff = replace(staff, is_active=False)
        for actor in (member, inactive_staff):
            with pytest.raises(PermissionDeniedError):
                await records.towns.create(actor, "Omsk")
            with pytest.raises(PermissionDeniedError):
                await records.groups.create_group(actor, "editors")
            with pytest.raises(PermissionDeniedError):
                await records.groups.create_permission(actor, "Can x", "x")
        omsk = await records.towns.create(staff, "Omsk")
        with pytest.raises(PermissionDeniedError):
            await records.towns.rename(member, omsk.id, "Tomsk")
        with pytest.raises(PermissionDeniedError):
            await records.towns.delete(member, omsk.id)
        with pytest.raises(ValidationError) as taken:
            await records.towns.create(staff, "Omsk")
        assert taken.value.errors["name"][0].code == "town_exists"
        assert (await records.towns.rename(staff, omsk.id, "Tomsk")).name == "Tomsk"
        with pytest.raises(NotFoundError):
            await records.towns.rename(staff, 10**9, "Nowhere")
        group = await records.groups.create_group(staff, "editors")
        permission = await records.groups.create_permission(staff, "Can change town", "change_town")
        with pytest.raises(PermissionDeniedError):
            await records.groups.set_user_groups(member, member, [group.id])
        await records.groups.set_group_permissions(staff, group.id, [permission.id])
        await records.groups.set_user_groups(staff, member, [group.id])
        with pytest.raises(ValidationError) as unknown:
            await records.groups.set_user_permissions(staff, member, [permission.id, 10**9])
        assert unknown.value.errors["user_permissions"][0].params == {"pk_value": 10**9}
        assert await records.groups.has_permission(member, "change_town")
        assert not await records.groups.has_permission(
            replace(member, is_active=False), "change_town"
        )
        assert await records.groups.permissions_of(replace(staff, is_superuser=True)) == {
            "change_town"
        }
        await records.towns.delete(staff, omsk.id)
        with pytest.raises(NotFoundError):
            await records.towns.delete(staff, omsk.id)

    with_store(url, work)


def test_a_users_towns_are_checked_before_anything_is_saved(url: str) -> None:
    async def work(store: Store) -> None:
        records = records_over(store, FixedClock(JOINED))
        gleb = await new_user(store, "gleb")
        ufa = await records.towns.create(await new_user(store, "boss", staff=True), "Ufa")
        assert await records.towns.set_for(gleb, [ufa.id, ufa.id]) == [ufa.id]
        for bad in ([ufa.id, 10**9], [-1], [2**63]):
            with pytest.raises(ValidationError) as error:
                await records.towns.set_for(gleb, bad)
            assert list(error.value.errors) == ["towns"]
            assert error.value.errors["towns"][0].code == "pk_does_not_exist"
        assert await records.towns.of_user(gleb) == [ufa.id]

    with_store(url, work)


def test_a_record_counts_whole_days_since_joining(url: str) -> None:
    async def work(store: Store) -> None:
        clock = FixedClock(JOINED + timedelta(days=3, hours=23))
        records = records_over(store, clock)
        gleb = await new_user(store, "gleb")
        record = await records.read(gleb.id)
        assert record.user == gleb
        assert record.days_count == 3
        clock.at = JOINED - timedelta(seconds=1)  # a clock that stepped back
        assert (await records.read(gleb.id)).days_count == 0
        with pytest.raises(NotFoundError):
            await records.read(10**9)

    with_store(url, work)
