"""User records (core/directory.py) from their cache, on the real stores: every write that
changes what a record shows evicts it, here at once and in another process (another Core on
the same database) once it reads the revocation feed; what depends on the time or on who asks
is worked out per read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.directory import StoredRecord
from authgate.core.errors import NotFoundError
from authgate.core.models import User, UserLinks
from authgate.core.staff import OPERATOR
from authgate.mailer import LogMailer
from authgate.settings import RecordsVisibility, Settings
from authgate.store import Store, open_store
from tests.core.test_sessions import PASSWORD, StepClock
from tests.support import CHEAP_ARGON2


@dataclass
class World:
    """Ann, whose record the writes change; boss, staff; the groups, permissions and towns
    she may be given (the first of each hers from the start)."""

    core: Core
    clock: StepClock
    ann: User
    boss: User
    groups: list[int]
    permissions: list[int]
    towns: list[int]


Write = Callable[[World, User], Awaitable[object]]


def _core(
    database_url: str, store: Store, clock: StepClock, visibility: RecordsVisibility = "all"
) -> Core:
    settings = Settings(
        database_url=database_url,
        secret_key="k" * 40,
        user_records_visibility=visibility,
        _env_file=None,
    )
    return build_core(settings, store, LogMailer(), clock, argon2=CHEAP_ARGON2)


async def _world(core: Core, clock: StepClock) -> World:
    users = core.users
    ann = await users.register(username="ann", email="ann@example.com", password=PASSWORD)
    boss = await users.register(username="boss", email="", password=PASSWORD, is_staff=True)
    groups = core.directory.groups
    group_ids = [(await groups.create_group(boss, name)).id for name in ("g1", "g2")]
    permission_ids = [
        (await groups.create_permission(boss, name, f"app.{name}")).id for name in ("p1", "p2")
    ]
    town_ids = [(await core.directory.towns.create(boss, name)).id for name in ("t1", "t2")]
    await groups.assign(boss, ann, group_ids=group_ids[:1], permission_ids=permission_ids[:1])
    await core.directory.towns.set_for(ann, town_ids[:1])
    return World(core, clock, ann, boss, group_ids, permission_ids, town_ids)


# Every kind of write that changes what ann's record shows, in an order each can follow.
WRITES: list[tuple[str, Write]] = [
    ("profile", lambda w, ann: w.core.users.update_profile(ann, first_name="Ann", actor=ann)),
    ("deactivation", lambda w, ann: w.core.users.set_active(ann, active=False, actor=OPERATOR)),
    ("activation", lambda w, ann: w.core.users.set_active(ann, active=True, actor=OPERATOR)),
    ("staff", lambda w, ann: w.core.users.set_privileges(ann, actor=OPERATOR, is_staff=True)),
    ("groups", lambda w, ann: w.core.directory.groups.assign(w.boss, ann, group_ids=w.groups)),
    (
        "own permissions",
        lambda w, ann: w.core.directory.groups.assign(w.boss, ann, permission_ids=w.permissions),
    ),
    ("towns", lambda w, ann: w.core.directory.towns.set_for(ann, w.towns)),
    ("login", lambda w, _: w.core.logins.authenticate(login="ann", password=PASSWORD)),
    ("reset link's login", lambda w, ann: w.core.users.record_login(ann)),
    ("group deleted", lambda w, _: w.core.directory.groups.delete_group(w.boss, w.groups[1])),
    (
        "permission deleted",
        lambda w, _: w.core.directory.groups.delete_permission(w.boss, w.permissions[1]),
    ),
    ("town deleted", lambda w, _: w.core.directory.towns.delete(w.boss, w.towns[1])),
    ("user deleted", lambda w, ann: w.core.users.delete(ann, actor=OPERATOR)),
]
# What another process learns from the feed: all but a login (Revocations.forget_here).
FEED_WRITES = [(name, write) for name, write in WRITES if name != "login"]
# Writes that change no record (it shows ids, not names, nor a group's permissions).
NO_RECORD_CHANGE: list[tuple[str, Write]] = [
    (
        "group renamed",
        lambda w, _: w.core.directory.groups.update_group(w.boss, w.groups[0], name="renamed"),
    ),
    (
        "group's permissions",
        lambda w, _: w.core.directory.groups.set_group_permissions(
            w.boss, w.groups[0], w.permissions
        ),
    ),
    ("town renamed", lambda w, _: w.core.directory.towns.rename(w.boss, w.towns[0], "renamed")),
]


async def _stored(store: Store, user_id: int) -> StoredRecord | None:
    """The truth: what the store holds of the record now."""
    found = await store.get_user_with_links(user_id)
    return None if found is None else StoredRecord(*found)


async def _read(core: Core, user_id: int) -> StoredRecord | None:
    """What the directory answers (from its cache when it holds the record)."""
    try:
        record = await core.directory.read(user_id)
    except NotFoundError:
        return None
    return StoredRecord(record.user, record.links)


@asynccontextmanager
async def _serving(
    database_url: str, clock: StepClock, visibility: RecordsVisibility = "all"
) -> AsyncIterator[Core]:
    """A core over its own connection to the database, as a worker has (closed after)."""
    store = open_store(database_url)
    await store.connect()
    core = _core(database_url, store, clock, visibility)
    try:
        yield core
    finally:
        await core.close()
        await store.close()


def _run(database_url: str, scenario: Callable[[Core, StepClock], Awaitable[None]]) -> None:
    async def run() -> None:
        clock = StepClock()
        async with _serving(database_url, clock) as core:
            await scenario(core, clock)

    asyncio.run(run())


def test_a_record_is_read_from_the_cache(database_url: str) -> None:
    """Which is what the tests below are about: a write beside the core, which tells nobody,
    is not seen until the entry goes."""

    async def scenario(core: Core, clock: StepClock) -> None:
        world = await _world(core, clock)
        before = await _read(core, world.ann.id)
        await core.store.update_user(world.ann.id, {"first_name": "Beside"})
        assert await _read(core, world.ann.id) == before
        await core.revocations.publish(world.ann.id)  # as a tool writing beside must
        assert (await core.directory.read(world.ann.id)).user.first_name == "Beside"

    _run(database_url, scenario)


def test_every_write_to_a_record_evicts_it_at_once(database_url: str) -> None:
    async def scenario(core: Core, clock: StepClock) -> None:
        world = await _world(core, clock)
        for name, write in NO_RECORD_CHANGE:  # of ann's group and town
            before = await _read(core, world.ann.id)
            await write(world, world.ann)
            assert await _stored(core.store, world.ann.id) == before, name
        for name, write in WRITES:
            before = await _read(core, world.ann.id)  # cached
            clock.at += timedelta(minutes=1)  # a login's last_login differs
            ann = await core.store.get_user(world.ann.id)
            assert ann is not None
            await write(world, ann)
            truth = await _stored(core.store, world.ann.id)
            assert truth != before, name  # the write did change the record
            assert await _read(core, world.ann.id) == truth, name

    _run(database_url, scenario)


def test_every_write_to_a_record_evicts_it_in_another_process_after_a_feed_poll(
    database_url: str,
) -> None:
    async def scenario(core: Core, clock: StepClock) -> None:
        async with _serving(database_url, clock) as other:  # another worker or node
            await other.revocations.poll()  # following the feed from its current end
            world = await _world(core, clock)
            for name, write in FEED_WRITES:
                await other.revocations.poll()  # up to date: what it caches now stays
                before = await _read(other, world.ann.id)
                clock.at += timedelta(minutes=1)
                ann = await core.store.get_user(world.ann.id)
                assert ann is not None
                await write(world, ann)
                # Until it reads the feed (every 50 ms when serving), the other process
                # answers from its copy, as for tokens; after, it answers the store's.
                assert await _read(other, world.ann.id) == before, name
                await other.revocations.poll()
                truth = await _stored(other.store, world.ann.id)
                assert truth != before, name
                assert await _read(other, world.ann.id) == truth, name

    _run(database_url, scenario)


async def _rendered_before(core: Core, world: World, write: Write) -> StoredRecord | None:
    """What a read answers after `write`, the read before it having left a dialect's rendering
    on the cached record; None when the write deleted the user."""
    (await core.directory.read(world.ann.id)).stored.renderings["test"] = b"before the write"
    world.clock.at += timedelta(minutes=1)
    ann = await world.core.store.get_user(world.ann.id)
    assert ann is not None
    await write(world, ann)
    await core.revocations.poll()
    try:
        return (await core.directory.read(world.ann.id)).stored
    except NotFoundError:
        return None


@pytest.mark.parametrize("where", ["here", "in another process"])
def test_what_a_dialect_rendered_of_a_record_goes_with_every_eviction(
    database_url: str, where: str
) -> None:
    """StoredRecord.renderings (the directory dialect's JSON of the record) lives on the cached
    record: every write that evicts the record, here or in another process after a feed poll,
    drops it too."""

    async def scenario(core: Core, clock: StepClock) -> None:
        async with _serving(database_url, clock) as other:
            await other.revocations.poll()  # following the feed from its current end
            world = await _world(core, clock)
            reader, writes = (core, WRITES) if where == "here" else (other, FEED_WRITES)
            for name, write in writes:
                after = await _rendered_before(reader, world, write)
                assert after is None or "test" not in after.renderings, name

    _run(database_url, scenario)


def test_a_login_is_seen_here_at_once_and_writes_no_feed_row(database_url: str) -> None:
    """A login's last_login reaches the other processes when their copy ages out
    (Revocations.forget_here): a feed row would be a write more per login."""

    async def scenario(core: Core, clock: StepClock) -> None:
        world = await _world(core, clock)
        before = await _read(core, world.ann.id)
        feed_end = await core.store.last_revocation_id()
        clock.at += timedelta(minutes=1)
        await core.logins.authenticate(login="ann", password=PASSWORD)
        assert await core.store.last_revocation_id() == feed_end
        after = await _read(core, world.ann.id)
        assert after != before
        assert after == await _stored(core.store, world.ann.id)

    _run(database_url, scenario)


def test_days_count_is_of_the_time_of_each_read_not_of_the_cached_one(
    database_url: str,
) -> None:
    async def scenario(core: Core, clock: StepClock) -> None:
        world = await _world(core, clock)
        first = await core.directory.read(world.ann.id)
        clock.at += timedelta(days=3, minutes=1)
        later = await core.directory.read(world.ann.id)
        assert later.user is first.user  # the cached entry
        assert (first.days_count, later.days_count) == (0, 3)
        assert later.read_at == clock.at

    _run(database_url, scenario)


@pytest.mark.parametrize("visibility", ["limited", "staff_only"])
def test_who_may_see_a_record_is_asked_per_read_of_the_cached_one(
    database_url: str, visibility: RecordsVisibility
) -> None:
    async def run() -> None:
        async with _serving(database_url, StepClock(), visibility) as core:
            world = await _world(core, StepClock())
            mary = await core.users.register(username="mary", email="", password=PASSWORD)
            reads: list[int] = []
            get_user_with_links = core.store.get_user_with_links

            async def counted(user_id: int) -> tuple[User, UserLinks] | None:
                reads.append(user_id)
                return await get_user_with_links(user_id)

            core.store.get_user_with_links = counted  # type: ignore[method-assign]
            own = await core.directory.read_for(world.ann, world.ann.id)
            by_staff = await core.directory.read_for(world.boss, world.ann.id)
            assert not own.limited
            assert not by_staff.limited
            if visibility == "limited":
                assert (await core.directory.read_for(mary, world.ann.id)).limited
            else:
                with pytest.raises(NotFoundError):
                    await core.directory.read_for(mary, world.ann.id)
            assert reads == [world.ann.id]  # one read of the store served them all

    asyncio.run(run())
