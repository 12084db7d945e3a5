"""The user lifecycle on the core, over a real store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from authgate.core import build_core
from authgate.core.errors import InvalidCredentialsError
from authgate.core.identity import username_key
from authgate.core.models import NewUser
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store
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
                await core.users.authenticate(login="django", password="wrong-password")
            user = await core.users.authenticate(login="django", password="lètmein-Django-1")
            assert user.last_login is not None
            stored = await store.get_user(user.id)
            assert stored is not None
            again = await core.users.authenticate(login="django", password="lètmein-Django-1")
            assert again.id == user.id
            return stored.password_hash
        finally:
            await core.close()
            await store.close()

    assert asyncio.run(scenario()).startswith("$argon2id$v=19$m=19456,t=2,p=1$")
