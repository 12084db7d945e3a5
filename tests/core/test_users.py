"""The user lifecycle on the core, over a real store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.errors import InvalidCredentialsError
from authgate.core.identity import username_key
from authgate.core.models import NewUser
from authgate.core.staff import OPERATOR
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import Store, open_store
from tests.core.test_passwords import DJANGO_PBKDF2


def test_a_user_imported_with_a_django_hash_logs_in_and_is_upgraded_to_argon2id(
    database_url: str,
) -> None:
    async def scenario() -> str:
        settings = Settings(database_url=database_url, secret_key="k" * 40, _env_file=None)
        store = open_store(database_url)
        await store.connect()
        core = build_core(settings, store, LogMailer())
        try:
            # What an import from Django leaves behind: the user with Django's own hash.
            await store.create_user(
                NewUser(
                    "django", username_key("django"), "", "", DJANGO_PBKDF2, True, datetime.now(UTC)
                )
            )
            with pytest.raises(InvalidCredentialsError):
                await core.logins.authenticate(login="django", password="wrong-password")
            user = await core.logins.authenticate(login="django", password="lètmein-Django-1")
            assert user.last_login is not None
            stored = await store.get_user(user.id)
            assert stored is not None
            again = await core.logins.authenticate(login="django", password="lètmein-Django-1")
            assert again.id == user.id
            return stored.password_hash
        finally:
            await core.close()
            await store.close()

    assert asyncio.run(scenario()).startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def _core_over(database_url: str) -> tuple[Core, Store]:
    settings = Settings(database_url=database_url, secret_key="k" * 40, _env_file=None)
    store = open_store(database_url)
    await store.connect()
    return build_core(settings, store, LogMailer()), store


def test_a_login_racing_a_password_change_gets_no_token(database_url: str) -> None:
    async def scenario() -> None:
        core, store = await _core_over(database_url)
        try:
            await core.users.register(username="john", email="", password="Correct-Horse-9")
            verified = await core.logins.authenticate(login="john", password="Correct-Horse-9")
            # The password changes while that login is between its verification and its token.
            await core.users.set_password(verified, "Brand-New-Horse-5", actor=OPERATOR)
            with pytest.raises(InvalidCredentialsError):
                await core.tokens.issue(verified)
            await core.users.delete(verified, actor=OPERATOR)
            with pytest.raises(InvalidCredentialsError):
                await core.tokens.issue(verified)
        finally:
            await core.close()
            await store.close()

    asyncio.run(scenario())


def test_the_revocation_feed_never_reuses_an_id(database_url: str) -> None:
    async def scenario() -> None:
        core, store = await _core_over(database_url)
        try:
            for user_id in (1, 2, 3):
                await store.append_revocation(user_id, datetime(2000, 1, 1, tzinfo=UTC))
            await store.prune_revocations(datetime.now(UTC))
            newest = await store.last_revocation_id()
            assert newest == 3  # the newest row survives every prune
            await store.append_revocation(4, datetime.now(UTC))
            assert await store.revocations_after(newest) == [(4, 4)]
        finally:
            await core.close()
            await store.close()

    asyncio.run(scenario())


def test_a_short_secret_key_is_refused() -> None:
    settings = Settings(secret_key="short", _env_file=None)
    with pytest.raises(ValueError, match="AUTHGATE_SECRET_KEY"):
        build_core(settings, open_store("sqlite:///:memory:"), LogMailer())
