"""The sync and async clients against a real authgate over HTTP: check_token, introspection,
jwt/verify/ and the JWKS, and every failure typed (never a bare httpx or JSON exception)."""

from __future__ import annotations

import asyncio

import pytest

from authgate.client import (
    AsyncAuthgateClient,
    AuthgateClient,
    AuthgateTimeout,
    AuthgateUnavailable,
    InvalidToken,
    TokenUserMismatch,
)
from tests.client.support import PASSWORD, closed_port_url, silent_port
from tests.support import Api


def _base(api: Api) -> str:
    return str(api.http.base_url).rstrip("/")


def test_check_token_answers_the_stored_spelling(api: Api) -> None:
    api.register("John", email="john@example.com")
    api.register("mary")
    token = api.login("John")
    with AuthgateClient(_base(api)) as client:
        assert client.check_token(token, "john") == "John"
        with pytest.raises(TokenUserMismatch) as mismatch:
            client.check_token(token, "mary")
        assert isinstance(mismatch.value, InvalidToken)
        with pytest.raises(InvalidToken) as rejected:
            client.check_token("0" * 40, "john")
        assert rejected.value.reason == "rejected"
        with pytest.raises(ValueError, match="username"):
            client.check_token(token, "")


def test_introspection_names_the_user_of_an_opaque_token(api: Api) -> None:
    api.register("john", email="john@example.com")
    token = api.login("john")
    with AuthgateClient(_base(api), token_keyword="Bearer") as client:
        identity = client.introspect(token)
        assert (identity.kind, identity.username, identity.email) == (
            "opaque",
            "john",
            "john@example.com",
        )
        assert identity.user_id == str(identity.claims["id"])
        api.http.post("/auth/token/logout/", headers=api.as_user(token))
        with pytest.raises(InvalidToken):
            client.introspect(token)


def test_the_async_client_asks_the_same(api: Api) -> None:
    api.register("john")
    token = api.login("john")
    pair = api.http.post("/auth/jwt/create/", json={"username": "john", "password": PASSWORD})

    async def scenario() -> None:
        async with AsyncAuthgateClient(_base(api)) as client:
            assert await client.check_token(token, "JOHN") == "john"
            me = await client.introspect(token)
            assert me.username == "john"
            verified = await client.verify_jwt(pair.json()["access"])
            assert (verified.kind, verified.user_id) == ("jwt", me.user_id)
            assert await client.fetch_jwks() == []  # HMAC: no public keys
            with pytest.raises(InvalidToken):
                await client.verify_jwt(pair.json()["access"][:-4] + "AAAA")

    asyncio.run(scenario())


def test_a_down_authgate_is_unavailable_not_a_timeout() -> None:
    with AuthgateClient(closed_port_url()) as client:
        with pytest.raises(AuthgateUnavailable) as down:
            client.introspect("0" * 40)
        assert not isinstance(down.value, AuthgateTimeout)
        assert down.value.status is None


def test_a_silent_authgate_is_a_timeout() -> None:
    with silent_port() as url:
        with AuthgateClient(url, timeout=0.3) as client, pytest.raises(AuthgateTimeout):
            client.fetch_jwks()

        async def ask() -> None:
            async with AsyncAuthgateClient(url, timeout=0.3) as client:
                await client.check_token("0" * 40, "john")

        with pytest.raises(AuthgateTimeout):
            asyncio.run(ask())


def test_an_answer_that_is_not_authgates_is_unavailable(api: Api) -> None:
    """A wrong base URL (authgate answers 404 there) must not read as 'invalid token'."""
    with AuthgateClient(_base(api) + "/not-here") as client:
        with pytest.raises(AuthgateUnavailable) as wrong:
            client.introspect("0" * 40)
        assert wrong.value.status == 404
