"""The fast lane serves exactly the full app's success: for every (method, path) the lane
answers and every scheme its dialect takes, the same request to the app with the lane and to
the app without it gets the same status, headers and bytes — and the lane did answer it. A
request that is no plain success (`/user/<id>/` of no one, or hidden from the caller) the lane
declines: the app answers it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from authgate.app import AuthgateApp, create_app
from authgate.metrics import Metrics
from authgate.settings import Settings
from authgate.store import open_store
from tests.support import CHEAP_ARGON2

PASSWORD = "Correct-Horse-9"
METRICS_TOKEN = "lane-metrics-token-0123456789abcdef"
# Every scheme the DRF dialects know, in DRF's order, and the session opened at token login.
SCHEMES = ["token", "jwt", "session"]
SETTINGS = {
    "authentication": {"djoser": SCHEMES, "directory": SCHEMES},
    "create_session_on_login": True,
    "cookie_secure": False,  # plain HTTP in process: a Secure cookie would not be sent back
    "metrics_token": METRICS_TOKEN,  # the lane tells the metrics of each answer it gives
}
# What the answers may vary on, beside the credentials.
VARIANTS: list[dict[str, str]] = [
    {},
    {"Accept-Language": "ru"},
    {"Accept": "text/html;q=0.9, application/json", "Accept-Language": "de, en;q=0.5"},
]
Request = tuple[str, str, dict[str, str], dict[str, object] | None]
USER_ROUTE = "/user/{id}/"  # the lane's route (its metrics' label) of every /user/<id>/


@pytest.fixture
def lane_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the lane's answers, as it tells the metrics."""
    answered: list[str] = []

    def record(_: Metrics, route: str, __: float) -> None:
        answered.append(route)

    monkeypatch.setattr(Metrics, "lane_answered", record)
    return answered


def test_every_lane_success_is_the_full_apps_answer(
    make_settings: Callable[..., Settings], lane_answers: list[str]
) -> None:
    settings = make_settings(**SETTINGS)
    with_lane = create_app(settings, argon2=CHEAP_ARGON2)
    without = create_app(settings, argon2=CHEAP_ARGON2, fast_lane=False)
    compared = asyncio.run(_compare(with_lane, without, lane_answers, settings))
    served = {(method, _route(path)) for method, path, _, _ in compared}
    assert served == with_lane.lane_routes  # every lane route, none left out
    assert without.lane_routes == frozenset()


@pytest.mark.parametrize("visibility", ["limited", "staff_only"])
def test_every_record_the_lane_serves_is_the_full_apps_answer(
    make_settings: Callable[..., Settings], lane_answers: list[str], visibility: str
) -> None:
    """Under each AUTHGATE_USER_RECORDS_VISIBILITY but the default (the test above): a
    record whole (one's own, staff's) and limited (another's, under `limited`)."""
    settings = make_settings(**SETTINGS, user_records_visibility=visibility)
    with_lane = create_app(settings, argon2=CHEAP_ARGON2)
    without = create_app(settings, argon2=CHEAP_ARGON2, fast_lane=False)
    compared = asyncio.run(_compare(with_lane, without, lane_answers, settings, only_records=True))
    assert {_route(path) for _, path, _, _ in compared} == {USER_ROUTE}
    limited = [r for r in compared if r[2].get("X-Record") == "another's"]
    assert bool(limited) == (visibility == "limited")


async def _client(stack: AsyncExitStack, app: AuthgateApp) -> httpx.AsyncClient:
    """A client of the app, started (its lifespan) until the stack closes."""
    await stack.enter_async_context(app.router.lifespan_context(app))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t")
    return await stack.enter_async_context(client)


def _route(path: str) -> str:
    return USER_ROUTE if path.startswith("/user/") else path


async def _compare(
    with_lane: AuthgateApp,
    without: AuthgateApp,
    lane_answers: list[str],
    settings: Settings,
    *,
    only_records: bool = False,
) -> list[Request]:
    async with AsyncExitStack() as stack:
        lane, full = [await _client(stack, app) for app in (with_lane, without)]
        requests = await _requests(full, settings)
        if only_records:
            requests = [r for r in requests if r[1].startswith("/user/")]
        for method, path, headers, body in requests:
            for variant in VARIANTS:
                sent: dict[str, Any] = {"headers": headers | variant, "json": body}
                before = len(lane_answers)
                by_lane = await lane.request(method, path, **sent)
                assert lane_answers[before:] == [_route(path)], (method, path, headers)
                by_app = await full.request(method, path, **sent)
                assert by_lane.status_code == by_app.status_code == 200, by_app.text
                # The same headers; their order is no part of HTTP's meaning.
                assert sorted(by_lane.headers.multi_items()) == sorted(by_app.headers.multi_items())
                assert by_lane.content == by_app.content
    return requests


async def _requests(client: httpx.AsyncClient, settings: Settings) -> list[Request]:
    """A user's every credential, and each request of the lane made with each of them; and
    records (`/user/<id>/`) read by that user and by staff, as far as they may read them."""
    user = {"username": "john", "email": "john@example.com", "password": PASSWORD}
    assert (await client.post("/auth/users/", json=user)).status_code == 201
    staff, others = await _others(client, settings)
    login = await client.post("/auth/token/login/", json=user)
    token, session = login.json()["auth_token"], login.cookies["authgate_session"]
    client.cookies.clear()
    jwt = (await client.post("/auth/jwt/create/", json=user)).json()["access"]
    cookie_login = await client.post("/u/api/login/", json=user)
    access = cookie_login.json()["access_token"]
    client.cookies.clear()
    given_id = {"X-Request-ID": "lane-or-app"}
    djoser = [
        {"Authorization": f"Token {token}"},
        {"Authorization": f"Bearer {jwt}"},
        {"Cookie": f"authgate_session={session}"},
    ]
    envelope = [{"Authorization": f"Token {token}"}, {"Authorization": f"bearer {token}"}]
    cookie_jwt = [{"Authorization": f"Bearer {access}"}, {"Cookie": f"access_token={access}"}]
    requests: list[Request] = []
    for prefix in ("/auth", "/api/v1/auth"):
        for path in (f"{prefix}/users/me/", f"{prefix}/users/me"):
            requests += [("GET", path, h | given_id, None) for h in djoser]
    for prefix in ("/api/v1", "/api/v1/accounts"):
        for path in (f"{prefix}/check_token/", f"{prefix}/check_token"):
            bodies: list[dict[str, object]] = [{"username": "john"}, {"username": "JOHN", "n": 1}]
            for body in bodies:
                requests += [("POST", path, h | given_id, body) for h in envelope]
    for path in ("/u/api/secure_test/", "/u/api/secure_test"):
        requests += [("GET", path, h | given_id, None) for h in cookie_jwt]
    john = (await client.get("/auth/users/me/", headers=djoser[0])).json()["id"]
    # john reads his own record and, unless hidden from him, mary's; staff read anyone's.
    # X-Record: which, for the test's own reading (no view reads it).
    readers = [(h, john, "own") for h in djoser]
    if settings.user_records_visibility != "staff_only":
        readers += [(h, others["mary"], "another's") for h in djoser]
    readers += [(staff, others["mary"], "staff's"), (staff, john, "staff's")]
    for headers, record, whose in readers:
        for path in (f"/user/{record}/", f"/user/{record}"):
            requests.append(("GET", path, headers | given_id | {"X-Record": whose}, None))
    return requests


async def _others(
    client: httpx.AsyncClient, settings: Settings
) -> tuple[dict[str, str], dict[str, int]]:
    """Mary, and boss, a staff member: boss's Authorization header, and their ids."""
    ids: dict[str, int] = {}
    for name in ("mary", "boss"):
        user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        created = await client.post("/auth/users/", json=user)
        assert created.status_code == 201
        ids[name] = created.json()["id"]
    store = open_store(settings.database_url, pool_size=1)
    await store.connect()
    try:  # before boss has any token, so no cache holds boss as non-staff
        await store.update_user(ids["boss"], {"is_staff": True})
    finally:
        await store.close()
    boss = {"username": "boss", "password": PASSWORD}
    token = (await client.post("/auth/token/login/", json=boss)).json()["auth_token"]
    client.cookies.clear()
    return {"Authorization": f"Token {token}"}, ids


def test_the_lane_declines_every_record_but_the_plain_success(
    make_settings: Callable[..., Settings], lane_answers: list[str]
) -> None:
    """No one's id, no id, no credentials, a media type DRF does not render, a record hidden
    from the caller (staff_only): the app answers, exactly as without the lane."""
    settings = make_settings(**SETTINGS, user_records_visibility="staff_only")
    with_lane = create_app(settings, argon2=CHEAP_ARGON2)
    without = create_app(settings, argon2=CHEAP_ARGON2, fast_lane=False)
    statuses = asyncio.run(_declined(with_lane, without, settings))
    assert lane_answers == []
    assert sorted(set(statuses)) == [401, 404, 406]


async def _declined(with_lane: AuthgateApp, without: AuthgateApp, settings: Settings) -> list[int]:
    async with AsyncExitStack() as stack:
        lane, full = [await _client(stack, app) for app in (with_lane, without)]
        user = {"username": "john", "email": "john@example.com", "password": PASSWORD}
        john = (await full.post("/auth/users/", json=user)).json()["id"]
        _, others = await _others(full, settings)
        token = (await full.post("/auth/token/login/", json=user)).json()["auth_token"]
        full.cookies.clear()
        signed_in = {"Authorization": f"Token {token}"}
        nobody = [f"/user/{n}/" for n in ("999999", "0", "-1", "abc", "me", str(2**64), "1.0")]
        requests: list[tuple[str, dict[str, str]]] = [
            *((path, signed_in) for path in [*nobody, "/user//", f"/user/{john}/x/"]),
            (f"/user/{others['mary']}/", signed_in),  # hidden from john under staff_only
            (f"/user/{john}/", {}),
            (f"/user/{john}/", {"Authorization": "Token " + "0" * 40}),
            (f"/user/{john}/", signed_in | {"Accept": "application/xml"}),
        ]
        statuses: list[int] = []
        for path, given in requests:
            headers = given | {"X-Request-ID": "lane-or-app"}  # else each answer makes its own
            by_lane = await lane.get(path, headers=headers)
            by_app = await full.get(path, headers=headers)
            assert by_lane.status_code == by_app.status_code != 200, path
            assert sorted(by_lane.headers.multi_items()) == sorted(by_app.headers.multi_items())
            assert by_lane.content == by_app.content
            statuses.append(by_lane.status_code)
    return statuses
