"""Response hardening (issue 5): security headers on every answer, fast lane and errors
included; HSTS and CORS by setting; no server version or stack trace anywhere."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import authgate.cli
from authgate.app import create_app
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store.migrate import upgrade
from tests.support import Api

PASSWORD = "Correct-Horse-9"
JSON = {"Content-Type": "application/json"}
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
ORIGIN = "https://app.example.com"


def _assert_hardened(response: httpx.Response, *, cache: str = "no-store") -> None:
    headers = response.headers
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "no-referrer", where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("cache-control") == cache, where
    assert headers.get_list("content-security-policy") == [API_CSP], where
    assert "strict-transport-security" not in headers, where


def _every_kind_of_answer(api: Api) -> list[httpx.Response]:
    """Successes of the app and of the fast lane, and errors of every dialect and layer."""
    api.register("john", email="john@example.com")
    token = api.login("john")
    http = api.http
    jwt = http.post("/auth/jwt/create/", json={"username": "john", "password": PASSWORD}).json()
    u_login = http.post("/u/api/login/", json={"email": "john@example.com", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {u_login.json()['access_token']}"}
    return [
        http.get("/auth/users/me/", headers=api.as_user(token)),  # fast lane
        http.get("/auth/users/me/", headers=api.as_user(token) | {"Accept": "text/xml"}),  # 406
        http.get("/auth/users/me/"),  # 401
        http.post("/api/v1/check_token/", json={"username": "john"}, headers=api.as_user(token)),
        http.post("/api/v1/check_token/", json={"username": "bob"}, headers=api.as_user(token)),
        http.get("/u/api/secure_test/", headers=bearer),  # fast lane
        http.get("/u/api/secure_test/"),
        http.post("/auth/jwt/verify/", json={"token": jwt["access"]}),
        http.post("/auth/jwt/verify/", json={"token": "garbage"}),
        u_login,
        http.post("/api/v1/login/", json={"username": "john", "password": PASSWORD}),
        http.post("/api/v1/login/", json={"username": "john", "password": "wrong"}),
        http.delete("/api/v1/login/"),  # 405
        http.get("/auth/nothing/"),  # a dialect's 404
        http.get("/nothing/at/all"),  # Starlette's own 404, outside every dialect
        http.post("/auth/users/", content=b"x" * (65 * 1024), headers=JSON),  # 413
        http.post("/auth/users/", content=b"<a/>", headers={"Content-Type": "text/xml"}),  # 415
        http.options("/auth/token/login/"),
        http.get("/openapi.json"),
        http.head("/auth/users/me/", headers=api.as_user(token)),
    ]


def test_every_answer_carries_the_security_headers(api: Api) -> None:
    for response in _every_kind_of_answer(api):
        _assert_hardened(response)


def test_the_jwks_keeps_its_public_cache_control(api: Api) -> None:
    response = api.http.get("/.well-known/jwks.json")
    _assert_hardened(response, cache="public, max-age=300")


def test_the_docs_page_has_a_policy_of_its_own(api: Api) -> None:
    response = api.http.get("/docs")
    policy = response.headers.get_list("content-security-policy")
    assert len(policy) == 1
    directives = dict(d.strip().split(" ", 1) for d in policy[0].split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # Swagger UI from the package, no inline script
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hsts_only_when_configured(serve: Callable[..., Api]) -> None:
    api = serve(hsts_seconds=31536000, hsts_include_subdomains=True)
    api.register("john")
    token = api.login("john")
    for response in (
        api.http.get("/auth/users/me/", headers=api.as_user(token)),  # fast lane
        api.http.get("/auth/users/me/"),
        api.http.get("/docs"),
    ):
        assert response.headers["strict-transport-security"] == (
            "max-age=31536000; includeSubDomains"
        )
    plain = serve(hsts_seconds=600)
    assert plain.http.get("/docs").headers["strict-transport-security"] == "max-age=600"


def test_no_cors_by_default(api: Api) -> None:
    api.register("john")
    token = api.login("john")
    simple = api.http.get("/auth/users/me/", headers=api.as_user(token) | {"Origin": ORIGIN})
    preflight = api.http.options(
        "/auth/token/login/",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    for response in (simple, preflight):
        assert not any(name.startswith("access-control-") for name in response.headers)


def test_cors_for_listed_origins_only(serve: Callable[..., Api]) -> None:
    api = serve(cors_allowed_origins=(ORIGIN,))
    api.register("john")
    token = api.login("john")
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = api.http.options("/auth/token/login/", headers={"Origin": ORIGIN} | preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    _assert_hardened(allowed)

    evil = api.http.options(
        "/auth/token/login/", headers={"Origin": "https://evil.example"} | preflight
    )
    assert evil.status_code == 400
    assert "access-control-allow-origin" not in evil.headers

    # A plain request, answered by the fast lane: the lane's answer gets CORS too.
    me = api.http.get("/auth/users/me/", headers=api.as_user(token) | {"Origin": ORIGIN})
    assert me.status_code == 200
    assert me.headers["access-control-allow-origin"] == ORIGIN
    assert me.headers["access-control-allow-credentials"] == "true"
    other = api.http.get(
        "/auth/users/me/", headers=api.as_user(token) | {"Origin": "https://evil.example"}
    )
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers


def test_wildcard_origins_are_refused() -> None:
    with pytest.raises(ValueError, match="not an origin"):
        Settings(cors_allowed_origins=("*",), _env_file=None)


def test_a_500_shows_no_stack_trace_and_keeps_the_headers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'authgate.sqlite3'}"
    upgrade(url)
    settings = Settings(database_url=url, secret_key="k" * 64, _env_file=None)
    app = create_app(settings, mailer=LogMailer())

    async def boom(_: Request) -> Response:
        raise RuntimeError("secret internals: password=hunter2")

    app.router.routes.insert(0, Route("/boom", boom))

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):
            return await client.get("/boom")

    response = asyncio.run(call())
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert "hunter2" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.slow
def test_authgate_serve_sends_no_server_header(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTHGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'authgate.sqlite3'}")
    monkeypatch.setattr(authgate.cli, "upgrade", lambda url: None)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    authgate.cli.serve(host="127.0.0.1", port=8000, workers=1)
    assert seen["server_header"] is False
    assert seen["access_log"] is False  # access logs would carry query strings
