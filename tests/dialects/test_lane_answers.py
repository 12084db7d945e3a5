"""The fast lane serves exactly the full app's success: for every (method, path) the lane
answers and every scheme its dialect takes, the same request to the app with the lane and to
the app without it gets the same status, headers and bytes — and the lane did answer it."""

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
from tests.support import CHEAP_ARGON2

PASSWORD = "Correct-Horse-9"
METRICS_TOKEN = "lane-metrics-token-0123456789abcdef"
# Every scheme the DRF dialects know, in DRF's order, and the session opened at token login.
SETTINGS = {
    "authentication": {"djoser": ["token", "jwt", "session"]},
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
    compared = asyncio.run(_compare(with_lane, without, lane_answers))
    served = {(method, path) for method, path, _, _ in compared}
    assert served == with_lane.lane_routes  # every lane route, none left out
    assert without.lane_routes == frozenset()


async def _compare(
    with_lane: AuthgateApp, without: AuthgateApp, lane_answers: list[str]
) -> list[Request]:
    async with AsyncExitStack() as stack:
        clients: list[httpx.AsyncClient] = []
        for app in (with_lane, without):
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t")
            clients.append(await stack.enter_async_context(client))
        lane, full = clients
        requests = await _requests(full)
        for method, path, headers, body in requests:
            for variant in VARIANTS:
                sent: dict[str, Any] = {"headers": headers | variant, "json": body}
                before = len(lane_answers)
                by_lane = await lane.request(method, path, **sent)
                assert lane_answers[before:] == [path], (method, path, headers)
                by_app = await full.request(method, path, **sent)
                assert by_lane.status_code == by_app.status_code == 200, by_app.text
                # The same headers; their order is no part of HTTP's meaning.
                assert sorted(by_lane.headers.multi_items()) == sorted(by_app.headers.multi_items())
                assert by_lane.content == by_app.content
    return requests


async def _requests(client: httpx.AsyncClient) -> list[Request]:
    """A user's every credential, and each request of the lane made with each of them."""
    user = {"username": "john", "email": "john@example.com", "password": PASSWORD}
    assert (await client.post("/auth/users/", json=user)).status_code == 201
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
    return requests
