"""Browser sessions (core/sessions.py) on the real stores: lifetime, idle time, revocation, CSRF."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.errors import PermissionDeniedError
from authgate.core.models import SessionPrincipal, SessionRecord, User
from authgate.core.sessions import TOUCH_INTERVAL_SECONDS, Session, Sessions
from authgate.core.staff import OPERATOR
from authgate.core.user_tokens import UserTokens
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import Store, open_store

PASSWORD = "Correct-Horse-9"


class StepClock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def _core(database_url: str, store: Store, clock: StepClock) -> Core:
    """A core whose sessions last an hour, or ten minutes unused."""
    settings = Settings(
        database_url=database_url,
        secret_key="k" * 40,
        session_lifetime_seconds=3600,
        session_idle_seconds=600,
        _env_file=None,
    )
    return build_core(settings, store, LogMailer(), clock)


async def _staff_and_user(core: Core, username: str) -> tuple[User, User]:
    """A staff member and a user they may act on."""
    staff = await core.users.register(username="boss", email="", password=PASSWORD, is_staff=True)
    return staff, await core.users.register(username=username, email="", password=PASSWORD)


def _run(
    database_url: str, scenario: Callable[[Core, Sessions, StepClock], Awaitable[None]]
) -> None:
    async def run() -> None:
        store = open_store(database_url)
        await store.connect()
        clock = StepClock()
        core = _core(database_url, store, clock)
        try:
            await scenario(core, core.sessions, clock)
        finally:
            await core.close()
            await store.close()

    asyncio.run(run())


def test_a_session_lives_until_its_lifetime_or_idle_time(database_url: str) -> None:
    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        user = await core.users.register(username="ann", email="", password=PASSWORD)
        raw = await sessions.create(user)
        found = await sessions.resolve(raw)
        assert found is not None
        assert found.user.id == user.id
        # Only the digest is stored.
        (stored,) = await core.store.list_user_sessions(user.id)
        assert stored.digest == hashlib.sha256(raw.encode()).hexdigest() != raw
        assert await sessions.resolve(raw + "x") is None
        assert await sessions.resolve("") is None
        # Used every 9 minutes, it lives on; past its absolute lifetime it ends.
        for _ in range(6):
            clock.at += timedelta(minutes=9)
            assert await sessions.resolve(raw) is not None
        clock.at += timedelta(minutes=7)
        assert await sessions.resolve(raw) is None
        # Unused for the idle time, it ends too.
        other = await sessions.create(user)
        clock.at += timedelta(minutes=10)
        assert await sessions.resolve(other) is None
        staff = await core.users.register(
            username="boss", email="", password=PASSWORD, is_staff=True
        )
        assert await sessions.list_for(staff, user) == []
        assert await sessions.prune() >= 1

    _run(database_url, scenario)


def test_password_change_deactivation_and_deletion_end_sessions(database_url: str) -> None:
    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        user = await core.users.register(username="bob", email="", password=PASSWORD)
        raw = await sessions.create(user)
        user = await core.users.set_password(user, "Another-Long-Pass-88", actor=OPERATOR)
        assert await sessions.resolve(raw) is None
        raw = await sessions.create(user)
        user = await core.users.set_active(user, active=False, actor=OPERATOR)
        assert await sessions.resolve(raw) is None
        assert await core.store.list_user_sessions(user.id) == []
        user = await core.users.set_active(user, active=True, actor=OPERATOR)
        raw = await sessions.create(user)
        await core.users.delete(user, actor=OPERATOR)
        assert await sessions.resolve(raw) is None

    _run(database_url, scenario)


def test_csrf_tokens_are_bound_to_their_session(database_url: str) -> None:
    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        user = await core.users.register(username="cid", email="", password=PASSWORD)
        first = await sessions.resolve(await sessions.create(user))
        second = await sessions.resolve(await sessions.create(user))
        assert first is not None
        assert second is not None
        token = sessions.csrf_token(first)
        assert sessions.check_csrf(first, token)
        assert not sessions.check_csrf(second, token)
        assert not sessions.check_csrf(first, None)
        assert not sessions.check_csrf(first, "é" + token[1:])

    _run(database_url, scenario)


def test_staff_list_and_revoke_a_users_tokens_and_sessions(database_url: str) -> None:
    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        staff, user = await _staff_and_user(core, "dan")
        tokens = UserTokens(core.store, core.revocations, core.audit)
        raw = await core.tokens.issue(user)
        (listed,) = await tokens.list_for(staff, user)
        assert listed.digest == hashlib.sha256(raw.encode()).hexdigest()
        with pytest.raises(PermissionDeniedError):
            await tokens.revoke(user, user, listed.digest)
        assert await tokens.revoke(staff, user, listed.digest)
        assert not await tokens.revoke(staff, user, listed.digest)
        assert await tokens.list_for(staff, user) == []
        await sessions.create(user)
        await sessions.create(user)
        assert len(await sessions.list_for(staff, user)) == 2
        assert await sessions.revoke_every(staff, user) == 2
        events = await core.audit.events(user_id=user.id, event="token_revoked")
        assert [e.reason for e in events] == ["all 2 sessions by boss", "by boss"]

    _run(database_url, scenario)


# The in-memory copy (core/principal_cache.py): a known cookie reads no database, and whatever
# ends a session ends its cached copy here at once and elsewhere after a feed poll.


def _count_session_reads(store: Store) -> list[str]:
    """The digests the store is asked for from now on (the real store's read, wrapped)."""
    asked: list[str] = []
    read = store.get_session

    async def get_session(digest: str) -> tuple[User, SessionRecord] | None:
        asked.append(digest)
        return await read(digest)

    store.get_session = get_session  # type: ignore[method-assign]
    return asked


def test_a_cached_session_answers_without_a_store_read_and_is_still_touched(
    database_url: str,
) -> None:
    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        user = await core.users.register(username="eve", email="", password=PASSWORD)
        raw = await sessions.create(user)
        reads = _count_session_reads(core.store)
        for _ in range(5):
            clock.at += timedelta(seconds=10)
            found = await sessions.resolve(raw)
            assert found is not None
            assert found.user.id == user.id
        assert len(reads) == 1
        # Past the touch interval its last use is written, from the cached copy.
        clock.at += timedelta(seconds=TOUCH_INTERVAL_SECONDS)
        found = await sessions.resolve(raw)
        assert found is not None
        assert found.record.last_used_at == clock.at
        (stored,) = await core.store.list_user_sessions(user.id)
        assert stored.last_used_at == clock.at
        assert len(reads) == 1
        # And not again before the interval is over.
        touched = clock.at
        clock.at += timedelta(seconds=TOUCH_INTERVAL_SECONDS - 1)
        assert await sessions.resolve(raw) is not None
        (stored,) = await core.store.list_user_sessions(user.id)
        assert stored.last_used_at == touched
        # The idle time still applies to the cached copy: unused for ten minutes, it ends.
        clock.at += timedelta(minutes=10)
        assert await sessions.resolve(raw) is None
        # So does the absolute lifetime, used or not.
        other = await sessions.create(user)
        for _ in range(6):
            clock.at += timedelta(minutes=9)
            assert await sessions.resolve(other) is not None
        clock.at += timedelta(minutes=7)  # an hour and a minute after it was opened
        assert await sessions.resolve(other) is None

    _run(database_url, scenario)


def test_every_way_a_session_ends_ends_its_cached_copy_at_once(database_url: str) -> None:
    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        staff, user = await _staff_and_user(core, "fay")

        async def cached() -> tuple[str, Session]:
            raw = await sessions.create(user)
            found = await sessions.resolve(raw)
            assert found is not None
            assert await sessions.resolve(raw) is not None  # now answered from memory
            return raw, found

        raw, found = await cached()
        await sessions.end(found)
        assert await sessions.resolve(raw) is None
        raw, found = await cached()
        await core.log_out(SessionPrincipal(user, found.record.digest))
        assert await sessions.resolve(raw) is None
        raw, found = await cached()
        assert await sessions.revoke(staff, user, found.record.digest)
        assert await sessions.resolve(raw) is None
        raw, _ = await cached()
        assert await sessions.revoke_every(staff, user) == 1
        assert await sessions.resolve(raw) is None
        raw, _ = await cached()
        user = await core.users.set_password(user, "Another-Long-Pass-88", actor=OPERATOR)
        assert await sessions.resolve(raw) is None
        raw, _ = await cached()
        user = await core.users.set_username(user, "fay2")
        found_again = await sessions.resolve(raw)
        assert found_again is not None
        assert found_again.user.username == "fay2"  # a profile change is seen at once too
        user = await core.users.set_active(user, active=False, actor=OPERATOR)
        assert await sessions.resolve(raw) is None
        user = await core.users.set_active(user, active=True, actor=OPERATOR)
        raw, _ = await cached()
        await core.users.delete(user, actor=OPERATOR)
        assert await sessions.resolve(raw) is None

    _run(database_url, scenario)


def test_a_read_racing_a_password_change_is_not_cached(database_url: str) -> None:
    """A request reads the session while a password change is under way: after the user's
    cached entries were dropped (the token and JWT revocations tell the feed first) and before
    the sessions are deleted. Its copy must not outlive the change."""

    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        user = await core.users.register(username="gus", email="", password=PASSWORD)
        raw = await sessions.create(user)
        delete = core.store.delete_user_sessions

        async def delete_user_sessions(user_id: int) -> int:
            assert await sessions.resolve(raw) is not None  # still stored: read and cached
            return await delete(user_id)

        core.store.delete_user_sessions = delete_user_sessions  # type: ignore[method-assign]
        await core.users.set_password(user, "Another-Long-Pass-88", actor=OPERATOR)
        assert await sessions.resolve(raw) is None

    _run(database_url, scenario)


def test_another_process_ending_a_session_ends_it_here_after_a_feed_poll(
    database_url: str,
) -> None:
    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        store = open_store(database_url)
        await store.connect()
        other = _core(database_url, store, clock)  # another worker or node
        try:
            await other.revocations.poll()  # following the feed from its current end
            staff, user = await _staff_and_user(core, "hal")
            ends: list[Callable[[SessionRecord], Awaitable[object]]] = [
                lambda record: sessions.log_out(user.id, record.digest),
                lambda record: sessions.revoke(staff, user, record.digest),
                lambda record: sessions.revoke_every(staff, user),
                lambda record: core.users.set_password(
                    user, "Another-Long-Pass-88", actor=OPERATOR
                ),
                lambda record: core.users.set_active(user, active=False, actor=OPERATOR),
                lambda record: core.users.delete(user, actor=OPERATOR),
            ]
            for end in ends:
                user = await core.store.get_user(user.id) or user
                if not user.is_active:
                    user = await core.users.set_active(user, active=True, actor=OPERATOR)
                raw = await sessions.create(user)
                await other.revocations.poll()  # up to date: what it caches now stays
                found = await other.sessions.resolve(raw)
                assert found is not None  # now cached by the other process
                await end(found.record)
                # Until it reads the feed (every 50 ms when serving), the other process
                # answers from its copy, as for tokens; after, it refuses.
                assert await other.sessions.resolve(raw) is not None
                await other.revocations.poll()
                assert await other.sessions.resolve(raw) is None
        finally:
            await other.close()
            await store.close()

    _run(database_url, scenario)


def test_a_session_used_on_another_process_is_not_idle_here(database_url: str) -> None:
    """This process's copy holds an older last use: the store, which the other process
    touched, has the last word before the session is refused as idle."""

    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        store = open_store(database_url)
        await store.connect()
        other = _core(database_url, store, clock)
        try:
            user = await core.users.register(username="ida", email="", password=PASSWORD)
            raw = await sessions.create(user)
            assert await sessions.resolve(raw) is not None  # cached here
            clock.at += timedelta(minutes=9)
            assert await other.sessions.resolve(raw) is not None  # touched there
            clock.at += timedelta(minutes=2)
            assert await sessions.resolve(raw) is not None  # 11 minutes after its use here
        finally:
            await other.close()
            await store.close()

    _run(database_url, scenario)


def test_a_read_session_proves_one_principal_until_its_next_touch(database_url: str) -> None:
    """The principal is made with the session as read (the lane answers from it), names the
    session by its digest, and follows the session's last use when that is written."""

    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        user = await core.users.register(username="gil", email="", password=PASSWORD)
        raw = await sessions.create(user)
        first, again = await sessions.resolve(raw), await sessions.resolve(raw)
        assert first is not None
        assert again is not None
        digest = hashlib.sha256(raw.encode()).hexdigest()
        assert first.principal == SessionPrincipal(first.user, digest)
        assert again.principal is first.principal
        clock.at += timedelta(seconds=TOUCH_INTERVAL_SECONDS)
        touched = await sessions.resolve(raw)
        assert touched is not None
        assert touched.record.last_used_at == clock.at
        assert touched.principal == first.principal
        # Live for its idle time from that use, not from the one before.
        assert touched.live_until == clock.at + timedelta(seconds=600)

    _run(database_url, scenario)


def test_cached_answers_as_resolve_does_only_when_nothing_is_read_or_written(
    database_url: str,
) -> None:
    """Sessions.cached (the session scheme's answer without a coroutine) is resolve's answer
    whenever memory alone gives it, and None whenever resolve would read, write or refuse:
    then the scheme asks resolve, so no touch, idle end or absolute end is skipped."""

    async def scenario(core: Core, sessions: Sessions, clock: StepClock) -> None:
        user = await core.users.register(username="hal", email="", password=PASSWORD)
        raw = await sessions.create(user)
        assert sessions.cached(raw) is None  # not read yet
        assert sessions.cached("") is None
        assert sessions.cached("x" * 65) is None
        first = await sessions.resolve(raw)
        assert first is not None
        assert sessions.cached(raw) is first
        # A second before its last use falls due for writing, still from memory; then not.
        clock.at += timedelta(seconds=TOUCH_INTERVAL_SECONDS - 1)
        assert sessions.cached(raw) is first
        clock.at += timedelta(seconds=1)
        assert sessions.cached(raw) is None
        touched = await sessions.resolve(raw)
        assert touched is not None
        assert touched.record.last_used_at == clock.at
        assert sessions.cached(raw) is touched
        # Idle past its end: None, and resolve refuses it too.
        clock.at += timedelta(seconds=600)
        assert sessions.cached(raw) is None
        assert await sessions.resolve(raw) is None
        # The absolute end comes before a due touch: 59 minutes and 50 seconds after it was
        # opened and 20 seconds after its last use, a session is quiet for 10 more seconds.
        other = await sessions.create(user)
        for _ in range(7):
            clock.at += timedelta(seconds=510)
            assert await sessions.resolve(other) is not None
        clock.at += timedelta(seconds=20)
        assert sessions.cached(other) is not None
        clock.at += timedelta(seconds=10)
        assert sessions.cached(other) is None
        assert await sessions.resolve(other) is None
        # An inactive user's cached session is never answered from memory.
        again = await sessions.create(user)
        found = await sessions.resolve(again)
        assert found is not None
        inactive = Session(
            replace(found.user, is_active=False), found.record, live_until=found.live_until
        )
        sessions._cache.refresh(found.record.digest, inactive)
        assert sessions.cached(again) is None
        assert await sessions.resolve(again) is None

    _run(database_url, scenario)
