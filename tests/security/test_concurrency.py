"""Races against a live server, on SQLite and PostgreSQL: one username (or email) registered
by several clients at once makes exactly one account, and one refresh token used by several
clients at once refreshes exactly once without a reuse interval (with one, every client gets
the same pair: tests/dialects/test_refresh_reuse.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from authgate.core.identity import username_key
from authgate.settings import Settings
from tests.security.helpers import (
    NO_THROTTLE,
    PASSWORD,
    TAKEN_USERNAME,
    assert_no_leak,
    stored_users,
    unique,
)
from tests.support import Api

CLIENTS = 6
# The racing requests overlap while they hash: at the real cost, as in production.
pytestmark = pytest.mark.production_argon2


@pytest.fixture
def live(serve: Callable[..., Api]) -> Api:
    return serve(cookie_secure=False, **NO_THROTTLE)


def _race(api: Api, request: Callable[[httpx.Client, int], httpx.Response]) -> list[httpx.Response]:
    """Send `request` from CLIENTS clients at once (each on its own connection)."""
    barrier = threading.Barrier(CLIENTS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        with httpx.Client(base_url=str(api.http.base_url), timeout=60) as client:
            client.get("/u/api/test/")  # connected before the barrier
            barrier.wait()
            response = request(client, index)
            response.read()
            with lock:
                answers.append(response)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == CLIENTS
    for response in answers:
        assert_no_leak(response)
    return answers


def _statuses(answers: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in answers)


def _named(settings: Settings, name: str) -> list[object]:
    """The stored users whose username is `name` ignoring case and compatibility forms (only
    this test's: other runs may share the PostgreSQL test database)."""
    return [u for u in stored_users(settings) if username_key(u.username) == username_key(name)]


def test_one_username_registered_at_once_makes_one_account(
    live: Api, make_settings: Callable[..., Settings]
) -> None:
    name = unique("racer")
    answers = _race(
        live,
        lambda client, i: client.post(
            "/auth/users/", json={"username": name, "password": PASSWORD}
        ),
    )
    assert _statuses(answers) == [201] + [400] * (CLIENTS - 1)
    for response in answers:
        if response.status_code == 400:
            assert response.json() == TAKEN_USERNAME
    assert len(_named(make_settings(), name)) == 1


def test_case_variants_registered_at_once_make_one_account(
    live: Api, make_settings: Callable[..., Settings]
) -> None:
    name = unique("racer")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in name)
    variants = [name.title(), name, name.upper(), name.swapcase(), fullwidth, name.capitalize()]
    answers = _race(
        live,
        lambda client, i: client.post(
            "/auth/users/", json={"username": variants[i], "password": PASSWORD}
        ),
    )
    assert _statuses(answers) == [201] + [400] * (CLIENTS - 1)
    for response in answers:
        if response.status_code == 400:
            assert response.json() == TAKEN_USERNAME
    assert len(_named(make_settings(), name)) == 1


def test_one_email_registered_at_once_makes_one_account(
    live: Api, make_settings: Callable[..., Settings]
) -> None:
    prefix = unique("mail")
    email = f"{prefix}@example.com"
    answers = _race(
        live,
        lambda client, i: client.post(
            "/auth/users/",
            json={"username": f"{prefix}n{i}", "password": PASSWORD, "email": email},
        ),
    )
    assert _statuses(answers) == [201] + [400] * (CLIENTS - 1)
    for response in answers:
        if response.status_code == 400:
            assert response.json() == {"email": ["User with this Email address already exists."]}
    assert len([u for u in stored_users(make_settings()) if u.email == email]) == 1


def test_one_refresh_token_used_at_once_refreshes_once_cookie_jwt(
    serve: Callable[..., Any],
) -> None:
    """Without a reuse interval (with one, all get the same pair: tests/dialects/
    test_refresh_reuse.py)."""
    live = serve(cookie_secure=False, jwt_refresh_reuse_interval_seconds=0, **NO_THROTTLE)
    email = f"{unique('john')}@example.com"
    live.register(email.split("@")[0], email=email)
    login = live.http.post("/u/api/login/", json={"email": email, "password": PASSWORD})
    refresh = login.json()["refresh_token"]
    answers = _race(
        live, lambda client, i: client.post("/u/api/refresh/", json={"refresh_token": refresh})
    )
    assert _statuses(answers) == [200] + [400] * (CLIENTS - 1)


def test_one_refresh_token_used_at_once_refreshes_once_simplejwt(
    serve: Callable[..., Any],
) -> None:
    live = serve(
        jwt_rotate_refresh_tokens=True, jwt_refresh_reuse_interval_seconds=0, **NO_THROTTLE
    )
    name = unique("john")
    live.register(name)
    pair = live.http.post("/auth/jwt/create/", json={"username": name, "password": PASSWORD})
    refresh = pair.json()["refresh"]
    answers = _race(
        live, lambda client, i: client.post("/auth/jwt/refresh/", json={"refresh": refresh})
    )
    assert _statuses(answers) == [200] + [401] * (CLIENTS - 1)
    winners = [r for r in answers if r.status_code == 200]
    assert list(winners[0].json()) == ["access", "refresh"]
