"""Revocations pushed through the machine's real Redis: a guard that verifies JWTs locally and
caches opaque tokens for a minute still refuses them within moments of a logout or password
change on authgate."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import pytest

from authgate.client.errors import InvalidToken
from authgate.client.guard import GuardOptions, SyncGuard
from authgate.client.revocations import RevocationSubscriber, channel as client_channel
from authgate.core.revocation_bus import channel as server_channel
from authgate.settings import Settings
from tests.support import Api

REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="AUTHGATE_TEST_REDIS_URL is not set")
PASSWORD = "Correct-Horse-9"  # Api.register's
SECRET = "pushed-revocations-secret-key-0123456789"


def _refused_within(guard: SyncGuard, header: str, seconds: float) -> float:
    started = time.monotonic()
    while True:
        try:
            guard.authenticate(header)
        except InvalidToken:
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, "the revocation did not reach the guard"
        time.sleep(0.02)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_guard_following_redis_refuses_revoked_tokens_at_once(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    api = serve(redis_url=REDIS_URL, throttle_enabled=False, jwt_signing_key=SECRET)
    api.register("john")
    options = GuardOptions(
        jwt_verification="hmac",
        hmac_key=SECRET,
        algorithms=("HS256",),
        cache_seconds=60,  # without the push, a revoked opaque token would pass for a minute
        redis_url=REDIS_URL,
    )
    guard = SyncGuard(str(api.http.base_url), options)
    try:
        opaque = api.login("john")
        assert guard.authenticate(f"Token {opaque}").username == "john"  # now cached
        access = api.http.post(
            "/auth/jwt/create/", json={"username": "john", "password": PASSWORD}
        ).json()["access"]
        assert guard.authenticate(f"Bearer {access}").user_id  # verified locally
        assert api.http.post("/auth/token/logout/", headers=api.as_user(opaque)).status_code == 204
        assert _refused_within(guard, f"Token {opaque}", 2.0) < 2.0
        # A password change ends the JWTs: pushed with the new generation, refused locally.
        changed = api.http.post(
            "/auth/users/set_password/",
            json={"current_password": PASSWORD, "new_password": "New-Horse-Pass-7"},
            headers=api.as_user(api.login("john")),
        )
        assert changed.status_code == 204
        assert _refused_within(guard, f"Bearer {access}", 2.0) < 2.0
        fresh = api.http.post(
            "/auth/jwt/create/", json={"username": "john", "password": "New-Horse-Pass-7"}
        ).json()["access"]
        assert guard.authenticate(f"Bearer {fresh}").user_id  # the new generation passes
    finally:
        guard.close()


def test_each_redis_database_has_its_own_channel() -> None:
    """Publish/subscribe spans a Redis server's databases: two deployments sharing a server on
    databases 1 and 2 must not hear each other (user 7 of one evicting user 7 of the other).
    The guard's rule is authgate's."""
    assert server_channel(0) == client_channel(0) == "authgate:revocations"
    assert {server_channel(db) for db in range(1, 16)} == {
        client_channel(db) for db in range(1, 16)
    }
    assert len({server_channel(db) for db in range(16)}) == 16


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_guard_on_another_redis_database_hears_nothing(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    assert REDIS_URL is not None
    parts = urlsplit(REDIS_URL)
    ours = int(parts.path.strip("/") or 0)
    elsewhere = urlunsplit(parts._replace(path=f"/{(ours + 7) % 16}"))
    api = serve(redis_url=REDIS_URL, throttle_enabled=False, jwt_signing_key=SECRET)
    api.register("john")
    heard: list[str] = []
    subscriber = RevocationSubscriber(elsewhere, lambda user_id, _: heard.append(user_id))
    same = RevocationSubscriber(REDIS_URL, lambda user_id, _: heard.append(f"same:{user_id}"))
    try:
        assert subscriber.start()
        assert same.start()
        token = api.login("john")
        assert api.http.post("/auth/token/logout/", headers=api.as_user(token)).status_code == 204
        deadline = time.monotonic() + 5
        while not heard and time.monotonic() < deadline:
            time.sleep(0.02)
        assert heard, "the guard on authgate's own database heard nothing"
        time.sleep(0.3)  # a message on a shared channel reaches both subscribers at once
        assert all(entry.startswith("same:") for entry in heard), heard
    finally:
        subscriber.stop()
        same.stop()
