"""JWTAuthentication's reading of `Authorization: Bearer <jwt>` (dialects/jwt_auth.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.models import User
from authgate.core.staff import OPERATOR
from authgate.dialects.jwt_auth import JwtAuthentication, JwtAuthenticationFailed
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store

PASSWORD = "Correct-Horse-9"


async def _authenticate(auth: JwtAuthentication, authorization: str | None) -> User | None:
    """The user the header proves, read and proved as dialects/authenticator.py does."""
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    raw = auth.read({"type": "http", "method": "GET", "path": "/", "headers": headers})
    return None if raw is None else (await auth.prove(raw)).user


def _with_core(database_url: str, scenario: Callable[[Core], Awaitable[None]]) -> None:
    async def run() -> None:
        settings = Settings(database_url=database_url, secret_key="k" * 64, _env_file=None)
        store = open_store(database_url)
        await store.connect()
        core = build_core(settings, store, LogMailer())
        try:
            await scenario(core)
        finally:
            await core.close()
            await store.close()

    asyncio.run(run())


async def _failure(auth: JwtAuthentication, header: str) -> dict[str, object]:
    with pytest.raises(JwtAuthenticationFailed) as failed:
        await _authenticate(auth, header)
    return failed.value.body("en")


def test_headers_and_failures_read_as_simplejwt_words_them(database_url: str) -> None:
    async def scenario(core: Core) -> None:
        auth = JwtAuthentication(core)
        assert auth.challenge == 'Bearer realm="api"'
        await core.users.register(username="john", email="", password=PASSWORD)
        user = await core.logins.authenticate(login="john", password=PASSWORD)
        refresh, access = await core.jwts.issue_pair(user)
        assert (await _authenticate(auth, f"Bearer {access}")) == user
        for not_ours in (None, "", f"bearer {access}", f"Token {access}"):
            assert await _authenticate(auth, not_ours) is None
        bad_header = {
            "detail": "Authorization header must contain two space-delimited values",
            "code": "bad_authorization_header",
        }
        assert await _failure(auth, "Bearer") == bad_header
        assert await _failure(auth, "Bearer a b") == bad_header
        assert await _failure(auth, f"Bearer {refresh}") == {
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [
                {
                    "token_class": "AccessToken",
                    "token_type": "access",
                    "message": "Token has wrong type",
                }
            ],
        }
        await core.users.set_password(user, "Brand-New-Horse-5", actor=OPERATOR)
        assert await _failure(auth, f"Bearer {access}") == {
            "detail": "The user's password has been changed.",
            "code": "password_changed",
        }
        await core.users.set_active(await core.users.get(user.id), active=False, actor=OPERATOR)
        assert (await _failure(auth, f"Bearer {access}"))["code"] == "user_inactive"
        await core.users.delete(user, actor=OPERATOR)
        assert await _failure(auth, f"Bearer {access}") == {
            "detail": "User not found",
            "code": "user_not_found",
        }

    _with_core(database_url, scenario)
