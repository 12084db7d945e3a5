"""How the app routes what no endpoint serves as asked: an unknown path inside a dialect's
prefix or outside every prefix, a wrong method, HEAD, OPTIONS, TRACE, a prefix without its
slash. Each answer (status, headers, bytes) and what the metrics make of it (route label,
status, the dialect a login is counted under) is compared with the answers recorded in
tests/routing_answers.json, recorded from the app that mounted each dialect as a Starlette app
of its own, so that the way dialects are mounted can change without one byte of an answer
changing. Re-record (only for a wanted change of answers) with
RECORD_ROUTING_ANSWERS=1 pytest tests/test_app_routing.py -k sqlite."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from authgate.app import AuthgateApp, create_app
from authgate.metrics import Metrics, current_dialect
from authgate.settings import Settings
from tests.support import CHEAP_ARGON2

RECORDED = Path(__file__).with_name("routing_answers.json")
METRICS_TOKEN = "routing-metrics-token-0123456789abcdef"
BAD_LOGIN: dict[str, object] = {"username": "nobody", "password": "Wrong-Horse-1"}
BAD_EMAIL_LOGIN: dict[str, object] = {"email": "nobody@example.com", "password": "Wrong-Horse-1"}
RU = {"Accept-Language": "ru"}
HTML = {"Accept": "text/html"}
Probe = tuple[str, str, dict[str, str], dict[str, object] | None]

PROBES: list[Probe] = [
    # Unknown paths: outside every prefix, a prefix alone, under each prefix.
    *(
        ("GET", path, {}, None)
        for path in (
            "/",
            "/nope",
            "/auth",
            "/auth/",
            "/auth/nope/",
            "/auth/users/me/extra/",
            "/api/v1/auth",
            "/api/v1/auth/",
            "/api/v1/auth/nope",
            "/api/v1",
            "/api/v1/",
            "/api/v1/nope/",
            "/api/v1/accounts",
            "/api/v1/accounts/nope",
            "/auth/jwt",
            "/auth/jwt/",
            "/auth/jwt/nope/",
            "/u/api",
            "/u/api/",
            "/u/api/nope/",
            "/user",
            "/user/",
            "/user/1/extra/",
            "/api/towns",
            "/api/towns/1/extra/",
            "/api/groups",
            "/api/groups/nope/x",
            "/api/permissions",
            "/api/permissions/a/b",
            "/api/audit",
            "/api/audit/nope/",
            "//auth/users/",
            "/auth//users/",
            "/.well-known/nope",
            "/docs/",
            "/docs/assets/nope.js",
            "/admin",
            "/admin/nope",
            "/metrics/",
        )
    ),
    ("POST", "/auth/nope", {}, {}),
    ("DELETE", "/api/v1/nope", {}, None),
    ("PATCH", "/u/api/nope", {}, {}),
    ("GET", "/auth/nope/", RU, None),
    ("GET", "/auth/nope/", HTML, None),
    ("GET", "/api/v1/nope", RU, None),
    ("GET", "/u/api/nope", RU, None),
    ("GET", "/api/towns/a/b/", RU | HTML, None),
    # Wrong methods.
    ("DELETE", "/auth/token/login/", {}, None),
    ("GET", "/auth/token/login", {}, None),
    ("GET", "/api/v1/auth/token/login/", RU, None),
    ("PUT", "/auth/jwt/create/", {}, {}),
    ("GET", "/api/v1/login/", {}, None),
    ("DELETE", "/api/v1/accounts/check_token", {}, None),
    ("POST", "/u/api/test/", {}, {}),
    ("GET", "/u/api/login", {}, None),
    ("POST", "/api/audit/", {}, {}),
    ("PUT", "/api/permissions/1/", {}, {}),
    ("POST", "/openapi.json", {}, {}),
    ("POST", "/healthz", {}, {}),
    ("DELETE", "/docs", {}, None),
    ("POST", "/.well-known/jwks.json", {}, {}),
    ("POST", "/metrics", {}, {}),
    # HEAD, OPTIONS, TRACE.
    *(
        (method, path, {}, None)
        for method in ("HEAD", "OPTIONS")
        for path in (
            "/auth/users/",
            "/auth/users/me",
            "/auth/token/login/",
            "/api/v1/auth/users/1/",
            "/auth/jwt/create",
            "/api/v1/login/",
            "/api/v1/check_token",
            "/u/api/test/",
            "/u/api/secure_test",
            "/user/1/",
            "/api/towns/",
            "/api/groups/1/",
            "/api/audit/",
            "/openapi.json",
            "/healthz",
            "/nope",
            "/auth/nope/",
            "/api/v1/nope/",
            "/u/api/nope/",
        )
    ),
    ("TRACE", "/auth/users/me/", {}, None),
    ("TRACE", "/api/v1/logout/", {}, None),
    ("TRACE", "/u/api/test", {}, None),
    ("TRACE", "/u/api/nope", {}, None),
    ("TRACE", "/nope", {}, None),
    ("QUERY", "/auth/jwt/verify/", {}, None),
    # Failures each dialect counts, under its name.
    ("POST", "/auth/token/login/", {}, BAD_LOGIN),
    ("POST", "/api/v1/auth/token/login", RU, BAD_LOGIN),
    ("POST", "/auth/jwt/create/", {}, BAD_LOGIN),
    ("POST", "/api/v1/login/", {}, BAD_LOGIN),
    ("POST", "/api/v1/accounts/login", {}, BAD_LOGIN),
    ("POST", "/u/api/login/", {}, BAD_EMAIL_LOGIN),
    ("GET", "/auth/users/", {}, None),
    ("POST", "/api/v1/check_token/", {}, {}),
    ("GET", "/u/api/secure_test/", {}, None),
    ("GET", "/user/1/", {}, None),
    ("GET", "/api/towns/", {}, None),
    ("GET", "/api/audit/", {}, None),
]


def test_routing_answers_are_the_recorded_ones(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _observe_metrics(monkeypatch)
    with_metrics = make_settings(metrics_token=METRICS_TOKEN)
    app = create_app(with_metrics, argon2=CHEAP_ARGON2, fast_lane=False)
    answers = asyncio.run(_answers(app, seen))
    if os.environ.get("RECORD_ROUTING_ANSWERS"):
        RECORDED.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n")
    recorded = json.loads(RECORDED.read_text())
    assert len(answers) == len(recorded)
    for answer, expected in zip(answers, recorded, strict=True):
        assert answer == expected
    # Without metrics, the same answers (the dialect's name is then set nowhere), /metrics
    # aside (then a 404).
    plain_app = create_app(make_settings(), argon2=CHEAP_ARGON2, fast_lane=False)
    plain = asyncio.run(_answers(plain_app, None))
    for answer, expected in zip(plain, recorded, strict=True):
        if " /metrics" not in answer["request"]:
            assert answer["answer"] == expected["answer"]


def _observe_metrics(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the metrics are told of each request: its route label and status, and the dialect
    each login is counted under."""
    seen: list[dict[str, Any]] = []
    answered, login = Metrics.request_answered, Metrics.login

    def request_answered(self: Metrics, route: str, status: int, seconds: float) -> None:
        seen.append({"route": route, "status": status})
        answered(self, route, status, seconds)

    def counted_login(self: Metrics, outcome: str) -> None:
        seen.append({"login": current_dialect.get(), "outcome": outcome})
        login(self, outcome)

    monkeypatch.setattr(Metrics, "request_answered", request_answered)
    monkeypatch.setattr(Metrics, "login", counted_login)
    return seen


async def _answers(app: AuthgateApp, seen: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for method, path, headers, body in PROBES:
                before = len(seen) if seen is not None else 0
                sent: dict[str, Any] = {"headers": headers}
                if body is not None:
                    sent["json"] = body
                response = await client.request(method, path, **sent)
                entry: dict[str, Any] = {
                    "request": f"{method} {path} {headers or ''}".rstrip(),
                    "answer": _answer(response),
                }
                if seen is not None:
                    entry["metrics"] = seen[before:]
                answers.append(entry)
    return answers


def _answer(response: httpx.Response) -> dict[str, Any]:
    """Status, headers in order (the request id aside: a new one each time) and body.
    Starlette's own 405 lists the methods from a set, in an order that varies per process."""
    starlettes_405 = response.content == b"Method Not Allowed"
    headers = []
    for name, value in response.headers.raw:
        if name.lower() == b"x-request-id":
            continue
        if starlettes_405 and name.lower() == b"allow":
            value = b", ".join(sorted(value.split(b", ")))
        headers.append([name.decode("latin-1"), value.decode("latin-1")])
    try:
        body: str = response.content.decode()
    except UnicodeDecodeError:
        body = "base64:" + base64.b64encode(response.content).decode()
    return {"status": response.status_code, "headers": headers, "body": body}
