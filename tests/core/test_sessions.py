"""Browser sessions (core/sessions.py) on the real stores: lifetime, idle time, revocation, CSRF."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.errors import PermissionDeniedError
from authgate.core.sessions import Sessions
from authgate.core.staff import OPERATOR
from authgate.core.user_tokens import UserTokens
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store

PASSWORD = "Correct-Horse-9"


class StepClock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def _run(
    database_url: str, scenario: Callable[[Core, Sessions, StepClock], Awaitable[None]]
) -> None:
    async def run() -> None:
        settings = Settings(database_url=database_url, secret_key="k" * 40, _env_file=None)
        store = open_store(database_url)
        await store.connect()
        clock = StepClock()
        core = build_core(settings, store, LogMailer(), clock)
        sessions = Sessions(
            store,
            clock,
            core.audit,
            secret="k" * 40,
            lifetime_seconds=3600,
            idle_seconds=600,
        )
        try:
            await scenario(core, sessions, clock)
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
        staff = await core.users.register(
            username="boss", email="", password=PASSWORD, is_staff=True
        )
        user = await core.users.register(username="dan", email="", password=PASSWORD)
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
