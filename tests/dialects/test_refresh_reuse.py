"""Two tabs refreshing with one refresh token at once, over HTTP on SQLite and PostgreSQL
(issue 12, section 2): within the reuse interval every tab gets a valid pair (the same
successor) and nothing ends; past it, a replay is theft and ends that login only, saying so,
in /auth/jwt/ and /u/api/ alike. The server's clock is a test's, moved past the interval."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest

from authgate.app import create_app
from authgate.settings import Settings
from tests.security.helpers import NO_THROTTLE
from tests.support import Api, ShiftedClock, serve_app

PASSWORD = "Correct-Horse-9"
TABS = 4
REUSED = {
    "detail": "This refresh token was already used; the session it belonged to has been ended"
    " for safety. Please log in again.",
    "code": "token_reused",
}
ENDED_DETAIL = (
    "This session was ended because one of its refresh tokens was used twice. Please log in again."
)


Serve = Callable[[ShiftedClock], Api]


@pytest.fixture
def serve_with_clock(make_settings: Callable[..., Settings]) -> Iterator[Serve]:
    """A live server (rotation on, JWTs accepted by /auth/users/me/) on the given clock."""
    with ExitStack() as stack:

        def start(clock: ShiftedClock) -> Api:
            settings = make_settings(
                jwt_rotate_refresh_tokens=True,
                cookie_secure=False,
                authentication={"djoser": ["jwt"]},
                **NO_THROTTLE,
            )
            base_url = stack.enter_context(serve_app(create_app(settings, clock=clock)))
            api = Api(base_url)
            stack.callback(api.http.close)
            return api

        yield start


def _at_once(api: Api, path: str, body: dict[str, str]) -> list[httpx.Response]:
    """POST `body` to `path` from TABS clients at the same moment (each its own connection)."""
    barrier = threading.Barrier(TABS)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def tab() -> None:
        with httpx.Client(base_url=str(api.http.base_url), timeout=60) as client:
            client.get("/u/api/test/")  # connected before the barrier
            barrier.wait()
            response = client.post(path, json=body)
            with lock:
                answers.append(response)

    threads = [threading.Thread(target=tab) for _ in range(TABS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == TABS
    return answers


def _jwt_login(api: Api, username: str) -> dict[str, str]:
    response = api.http.post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _cookie_jwt_login(api: Api, email: str) -> dict[str, Any]:
    response = api.http.post("/u/api/login/", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    api.http.cookies.clear()
    return dict(response.json())


def _me(api: Api, access: str) -> httpx.Response:
    return api.http.get("/auth/users/me/", headers={"Authorization": f"Bearer {access}"})


def _secure(api: Api, access: str) -> int:
    return api.http.get(
        "/u/api/secure_test/", headers={"Authorization": f"Bearer {access}"}
    ).status_code


def test_tabs_refreshing_at_once_all_get_a_valid_pair(serve_with_clock: Serve) -> None:
    api = serve_with_clock(ShiftedClock())
    api.register("tabs", email="tabs@example.com")

    pair = _jwt_login(api, "tabs")
    answers = _at_once(api, "/auth/jwt/refresh/", {"refresh": pair["refresh"]})
    assert [a.status_code for a in answers] == [200] * TABS, [a.text for a in answers]
    # One successor for every tab: the login stays a single chain.
    assert len({a.json()["refresh"] for a in answers}) == 1
    for answer in answers:
        assert _me(api, answer.json()["access"]).json()["username"] == "tabs"
    again = api.http.post("/auth/jwt/refresh/", json={"refresh": answers[0].json()["refresh"]})
    assert again.status_code == 200
    assert _me(api, again.json()["access"]).status_code == 200

    tokens = _cookie_jwt_login(api, "tabs@example.com")
    answers = _at_once(api, "/u/api/refresh/", {"refresh_token": tokens["refresh_token"]})
    assert [a.status_code for a in answers] == [200] * TABS, [a.text for a in answers]
    assert len({a.json()["refresh_token"] for a in answers}) == 1
    assert {_secure(api, a.json()["access_token"]) for a in answers} == {200}
    again = api.http.post(
        "/u/api/refresh/", json={"refresh_token": answers[0].json()["refresh_token"]}
    )
    assert again.status_code == 200


def test_a_replay_past_the_interval_ends_that_login_only(serve_with_clock: Serve) -> None:
    clock = ShiftedClock()
    api = serve_with_clock(clock)
    api.register("victim", email="victim@example.com")

    stolen = _jwt_login(api, "victim")
    elsewhere = _jwt_login(api, "victim")  # the same user's other login
    clock.offset = -timedelta(seconds=11)  # the first refresh was 11 s ago: past the 10 s
    first = api.http.post("/auth/jwt/refresh/", json={"refresh": stolen["refresh"]}).json()
    clock.offset = timedelta(0)
    replayed = api.http.post("/auth/jwt/refresh/", json={"refresh": stolen["refresh"]})
    assert (replayed.status_code, replayed.json()) == (401, REUSED)
    # Every token of that login is dead, and says why (not "password changed").
    ended = api.http.post("/auth/jwt/refresh/", json={"refresh": first["refresh"]})
    assert (ended.status_code, ended.json()) == (
        401,
        {"detail": ENDED_DETAIL, "code": "session_ended"},
    )
    refused = _me(api, first["access"])
    assert (refused.status_code, refused.json()) == (
        401,
        {"detail": ENDED_DETAIL, "code": "session_ended"},
    )
    assert _me(api, stolen["access"]).json()["code"] == "session_ended"
    # The other login lives on.
    assert _me(api, elsewhere["access"]).status_code == 200
    assert api.http.post("/auth/jwt/refresh/", json={"refresh": elsewhere["refresh"]}).is_success

    stolen = _cookie_jwt_login(api, "victim@example.com")
    elsewhere = _cookie_jwt_login(api, "victim@example.com")
    clock.offset = -timedelta(seconds=11)
    first = api.http.post("/u/api/refresh/", json={"refresh_token": stolen["refresh_token"]})
    assert first.status_code == 200
    api.http.cookies.clear()
    clock.offset = timedelta(0)
    replayed = api.http.post("/u/api/refresh/", json={"refresh_token": stolen["refresh_token"]})
    assert (replayed.status_code, replayed.json()) == (400, REUSED)
    assert _secure(api, first.json()["access_token"]) == 401
    ended = api.http.post("/u/api/refresh/", json={"refresh_token": first.json()["refresh_token"]})
    assert (ended.status_code, ended.json()) == (
        400,
        {"detail": ENDED_DETAIL, "code": "session_ended"},
    )
    assert _secure(api, elsewhere["access_token"]) == 200
    assert api.http.post(
        "/u/api/refresh/", json={"refresh_token": elsewhere["refresh_token"]}
    ).is_success


def test_two_workers_agree_on_the_race_and_on_the_theft(serve_with_clock: Serve) -> None:
    """Two servers over one database stand in for two workers: tabs refreshing at once through
    different workers both succeed, and a theft seen by one ends the login on the other too,
    although it had the login's access token cached."""
    clock = ShiftedClock()
    first, second = serve_with_clock(clock), serve_with_clock(clock)
    first.register("workers", email="workers@example.com")
    pair = _jwt_login(first, "workers")
    barrier = threading.Barrier(2)
    answers: dict[str, httpx.Response] = {}

    def tab(name: str, api: Api) -> None:
        with httpx.Client(base_url=str(api.http.base_url), timeout=60) as client:
            client.get("/u/api/test/")
            barrier.wait()
            answers[name] = client.post("/auth/jwt/refresh/", json={"refresh": pair["refresh"]})

    threads = [threading.Thread(target=tab, args=item) for item in (("a", first), ("b", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answers[n].status_code for n in "ab"] == [200, 200], [a.text for a in answers.values()]
    assert answers["a"].json()["refresh"] == answers["b"].json()["refresh"]

    access = answers["a"].json()["access"]
    for _ in range(3):  # cached by the first server now
        assert _me(first, access).status_code == 200
    clock.offset = timedelta(seconds=-11)  # the successor was used 11 s ago, through the first
    successor = answers["a"].json()["refresh"]
    assert first.http.post("/auth/jwt/refresh/", json={"refresh": successor}).status_code == 200
    clock.offset = timedelta(0)
    replayed = second.http.post("/auth/jwt/refresh/", json={"refresh": successor})
    assert (replayed.status_code, replayed.json()) == (401, REUSED)
    deadline = time.monotonic() + 2  # the revocation feed's poll reaches the first server
    while _me(first, access).status_code != 401:
        assert time.monotonic() < deadline, "the ended login still works on the other worker"
        time.sleep(0.01)
    assert _me(first, access).json()["code"] == "session_ended"
