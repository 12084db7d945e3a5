"""Lockout and throttling over HTTP: a locked login fails exactly like a wrong password, in
every dialect; too many attempts get 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from tests.support import Api, ShiftedClock, waits_on

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PASSWORD = "Correct-Horse-9"  # Api.register's
WRONG = "Wrong-Horse-9"


def _djoser(api: Api, username: str, password: str) -> httpx.Response:
    return api.http.post("/auth/token/login/", json={"username": username, "password": password})


def _answer(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    # The date and a made request id differ between any two answers; everything else may not.
    headers = sorted(
        (k, "..." if k == "x-request-id" else v) for k, v in response.headers.items() if k != "date"
    )
    return response.status_code, response.content, headers


def test_a_locked_login_fails_like_a_wrong_password_even_with_the_right_one(
    serve: Callable[..., Api],
) -> None:
    api = serve(throttle_enabled=False, lockout_free_failures=3, lockout_base_seconds=60)
    api.register("john", email="john@example.com")
    wrong = [_djoser(api, "john", WRONG) for _ in range(3)]
    assert {r.status_code for r in wrong} == {400}
    locked = _djoser(api, "john", PASSWORD)
    assert _answer(locked) == _answer(wrong[0])
    # The lock is the user's, whichever dialect or login names them; each answers the right
    # password as it answers a wrong one.
    for path, login in (
        ("/u/api/login/", {"email": "john@example.com"}),
        ("/api/v1/login/", {"username": "john"}),
        ("/auth/jwt/create/", {"username": "john"}),
    ):
        right = api.http.post(path, json={**login, "password": PASSWORD})
        assert right.status_code in (400, 401), path
        assert _answer(right) == _answer(api.http.post(path, json={**login, "password": WRONG}))


def test_an_unknown_login_locks_and_answers_as_a_known_one(serve: Callable[..., Api]) -> None:
    api = serve(throttle_enabled=False, lockout_free_failures=2, lockout_base_seconds=60)
    api.register("john")
    known = [_djoser(api, "john", WRONG) for _ in range(3)]
    unknown = [_djoser(api, "ghost", WRONG) for _ in range(3)]
    assert [_answer(r) for r in known] == [_answer(r) for r in unknown]


def test_a_lock_ends_and_a_success_resets_the_count(serve: Callable[..., Api]) -> None:
    clock = ShiftedClock()
    with waits_on(clock):
        api = serve(
            throttle_enabled=False, lockout_free_failures=2, lockout_base_seconds=3, clock=clock
        )
    api.register("john")
    _djoser(api, "john", WRONG)
    assert _djoser(api, "john", PASSWORD).status_code == 200  # one failure: no lock
    for _ in range(2):
        _djoser(api, "john", WRONG)
    assert _djoser(api, "john", PASSWORD).status_code == 400  # locked for 3 s
    clock.offset += timedelta(seconds=4)  # as a wait of 4 s would
    assert _djoser(api, "john", PASSWORD).status_code == 200


def test_too_many_logins_get_429_with_retry_after_in_every_dialect(
    serve: Callable[..., Api],
) -> None:
    api = serve(throttle_login_per_account="2/minute", lockout_enabled=False)
    api.register("john", email="john@example.com")
    attempts = {
        "/auth/token/login/": {"username": "john", "password": WRONG},
        "/auth/jwt/create/": {"username": "john", "password": WRONG},
        "/api/v1/login/": {"username": "john", "password": WRONG},
    }
    for path, body in attempts.items():
        answers = [api.http.post(path, json=body) for _ in range(3)]
        # The budget is the login's, across dialects: the first dialect spends it.
        assert answers[-1].status_code == 429, path
        assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    # /u/api/ logs in by email: a login of its own, with its own budget.
    body = {"email": "john@example.com", "password": WRONG}
    cookie_jwt = [api.http.post("/u/api/login/", json=body) for _ in range(3)]
    assert [r.status_code for r in cookie_jwt] == [401, 401, 429]
    assert "retry-after" in cookie_jwt[-1].headers


def test_registrations_per_client_are_limited(serve: Callable[..., Api]) -> None:
    api = serve(throttle_register_per_client="2/hour")
    api.register("one")  # asserts a 201
    api.register("two")
    third = api.http.post("/auth/users/", json={"username": "three", "password": PASSWORD})
    assert third.status_code == 429
    assert int(third.headers["retry-after"]) > 60


def test_recovery_requests_per_address_are_limited_whether_or_not_it_is_known(
    serve: Callable[..., Api],
) -> None:
    api = serve(throttle_recovery_per_account="1/hour")
    api.register("john", email="john@example.com")
    for email in ("john@example.com", "nobody@example.com"):
        first = api.http.post("/auth/users/reset_password/", json={"email": email})
        second = api.http.post("/auth/users/reset_password/", json={"email": email})
        assert (first.status_code, second.status_code) == (204, 429)
