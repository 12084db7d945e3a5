"""The guards over a real authgate: opaque tokens (`Token`, `Bearer`) asked of authgate and
cached briefly, the header forms refused, and a down or silent authgate refused as 503 by the
ASGI middleware and the Starlette/FastAPI dependency (a downstream app served by uvicorn)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from authgate.client import (
    AuthgateMiddleware,
    AuthgateTimeout,
    AuthgateUnavailable,
    Guard,
    GuardOptions,
    InvalidToken,
    RequireIdentity,
    SyncGuard,
    identity_of,
)
from authgate.client.answers import NOT_PROVIDED
from tests.client.support import closed_port_url, silent_port
from tests.support import Api, serve_app


def _base(api: Api) -> str:
    return str(api.http.base_url).rstrip("/")


def _downstream(guard: Guard) -> Starlette:
    """A service with one route behind the middleware and one behind the dependency."""
    require = RequireIdentity(guard)

    async def by_middleware(request: Request) -> JSONResponse:
        identity = identity_of(request.scope)
        return JSONResponse({"user_id": identity.user_id, "username": identity.username})

    async def by_dependency(request: Request) -> JSONResponse:
        identity = await require(request)
        return JSONResponse({"user_id": identity.user_id, "kind": identity.kind})

    async def public(_: Request) -> JSONResponse:
        return JSONResponse({"open": True})

    app = Starlette(
        routes=[
            Route("/guarded/me", by_middleware),
            Route("/dep/me", by_dependency),
            Route("/public", public),
        ]
    )
    app.add_middleware(AuthgateMiddleware, guard=guard, prefixes=("/guarded/",))
    return app


@pytest.fixture
def downstream_of() -> Iterator[object]:
    """Start a downstream app guarded against a given authgate URL; yields a starter."""
    stack: list[object] = []

    def start(authgate_url: str, options: GuardOptions | None = None, timeout: float = 2.0):
        from authgate.client import AsyncAuthgateClient

        guard = Guard(AsyncAuthgateClient(authgate_url, timeout=timeout), options)
        context = serve_app(_downstream(guard))
        stack.append(context)
        return httpx.Client(base_url=context.__enter__(), timeout=30)

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)  # type: ignore[attr-defined]


def test_token_and_bearer_opaque_tokens_pass_the_middleware(api: Api, downstream_of) -> None:
    api.register("john")
    token = api.login("john")
    service = downstream_of(_base(api))
    for header in (f"Token {token}", f"Bearer {token}", f"token {token}"):
        answer = service.get("/guarded/me", headers={"Authorization": header})
        assert answer.status_code == 200, header
        assert answer.json()["username"] == "john"
    dependency = service.get("/dep/me", headers={"Authorization": f"Token {token}"})
    assert dependency.status_code == 200
    assert dependency.json()["kind"] == "opaque"
    assert service.get("/public").status_code == 200


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Token", "Invalid token."),
        ("Token a b", "Invalid token."),
        ("Basic am9objpwdw==", "Invalid token."),
        ("Token " + "0" * 40, "Invalid token."),
    ],
)
def test_refusals_are_401_with_a_challenge(
    api: Api, downstream_of, header: str | None, detail: str
) -> None:
    service = downstream_of(_base(api))
    headers = {"Authorization": header} if header else {}
    # The middleware and the dependency (raised in a Starlette handler, which Starlette words
    # as plain text for a bare HTTPException) answer alike: one JSON shape.
    for path in ("/guarded/me", "/dep/me"):
        answer = service.get(path, headers=headers)
        assert (answer.status_code, answer.json()) == (401, {"detail": detail}), path
        assert answer.headers["content-type"] == "application/json", path
        assert answer.headers["www-authenticate"] == "Bearer", path


def test_a_down_authgate_is_503_never_a_pass(downstream_of) -> None:
    service = downstream_of(closed_port_url())
    for path in ("/guarded/me", "/dep/me"):
        answer = service.get(path, headers={"Authorization": "Token " + "0" * 40})
        assert answer.status_code == 503, path
        detail = "The authentication service is unavailable. Try again later."
        assert answer.json() == {"detail": detail}, path
        assert answer.headers["retry-after"] == "5"
    missing = service.get("/guarded/me")
    assert missing.status_code == 401  # no token: nothing to ask authgate


def test_a_silent_authgate_is_503_after_the_timeout(downstream_of) -> None:
    with silent_port() as url:
        service = downstream_of(url, timeout=0.3)
        answer = service.get("/guarded/me", headers={"Authorization": "Token " + "0" * 40})
        assert answer.status_code == 503


def test_vouched_tokens_are_cached_refusals_are_not(api: Api) -> None:
    """With a long cache a logged-out token still passes (the documented trade-off); with none
    it is refused at once. A refused token is never remembered."""
    api.register("john")
    token = api.login("john")

    async def scenario() -> None:
        cached = Guard(_base(api), GuardOptions(cache_seconds=300))
        uncached = Guard(_base(api), GuardOptions(cache_seconds=0))
        for guard in (cached, uncached):
            assert (await guard.authenticate(f"Token {token}")).username == "john"
        api.http.post("/auth/token/logout/", headers=api.as_user(token))
        assert (await cached.authenticate(f"Token {token}")).username == "john"
        with pytest.raises(InvalidToken):
            await uncached.authenticate(f"Token {token}")
        cached.cache.forget(token)
        with pytest.raises(InvalidToken):
            await cached.authenticate(f"Token {token}")
        assert len(cached.cache) == 0
        for guard in (cached, uncached):
            await guard.aclose()

    asyncio.run(scenario())


def test_the_sync_guard_answers_as_the_async_one(api: Api) -> None:
    api.register("john")
    token = api.login("john")
    guard = SyncGuard(_base(api))
    assert guard.authenticate(f"Bearer {token}").username == "john"
    with pytest.raises(InvalidToken) as missing:
        guard.authenticate(None)
    assert missing.value.reason == "missing"
    guard.close()
    down = SyncGuard(closed_port_url())
    with pytest.raises(AuthgateUnavailable):
        down.authenticate(f"Token {token}")
    with silent_port() as url:
        from authgate.client import AuthgateClient

        silent = SyncGuard(AuthgateClient(url, timeout=0.3))
        with pytest.raises(AuthgateTimeout):
            silent.authenticate(f"Token {token}")


def test_an_apps_own_handler_for_the_refusal_wins(api: Api) -> None:
    """RequireIdentity answers its refusal as JSON unless the app words it itself."""
    from authgate.client.dependency import IdentityRefused

    guard = Guard(_base(api))
    require = RequireIdentity(guard)

    async def me(request: Request) -> JSONResponse:
        identity = await require(request)
        return JSONResponse({"user_id": identity.user_id})

    async def own(_: Request, refused: Exception) -> JSONResponse:
        assert isinstance(refused, IdentityRefused)
        return JSONResponse({"error": refused.detail}, status_code=refused.status_code)

    app = Starlette(routes=[Route("/me", me)], exception_handlers={IdentityRefused: own})
    with serve_app(app) as url:
        answer = httpx.get(url + "/me", timeout=30)
    assert (answer.status_code, answer.json()) == (401, {"error": NOT_PROVIDED})
