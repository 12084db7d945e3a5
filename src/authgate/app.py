"""create_app(settings) -> the Starlette app: every dialect mounted over one core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from authgate.core import build_core
from authgate.core.clock import Clock
from authgate.core.mail import Mailer
from authgate.dialects import djoser, envelope, jwks, simplejwt, uapi
from authgate.dialects.base import Dialect
from authgate.http.fast_lane import FastLane
from authgate.http.openapi import build_document, swagger_ui
from authgate.mailer import build_mailer
from authgate.settings import Settings
from authgate.store import open_store

DJOSER_PREFIXES = ("/auth", "/api/v1/auth")
ENVELOPE_PREFIXES = ("/api/v1", "/api/v1/accounts")
UAPI_PREFIXES = ("/u/api",)


def create_app(
    settings: Settings, *, mailer: Mailer | None = None, clock: Clock | None = None
) -> Starlette:
    """The whole service. The store connects when the app starts and closes when it stops."""
    store = open_store(settings.database_url, pool_size=settings.database_pool_size)
    core = build_core(settings, store, mailer or build_mailer(settings), clock)
    dialects = [
        djoser.build(core, DJOSER_PREFIXES),
        envelope.build(core, ENVELOPE_PREFIXES),
        simplejwt.build(core, ("/auth/jwt",)),
        uapi.build(core, UAPI_PREFIXES),
    ]
    document = build_document([(d.prefixes[0], d.name, d.endpoints) for d in dialects])

    async def openapi(_: Request) -> Response:
        return JSONResponse(document)

    async def docs(_: Request) -> Response:
        return swagger_ui()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await store.connect()
        await core.start()
        try:
            yield
        finally:
            await core.close()
            await store.close()

    routes = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        jwks.route(core),
        *_mounts(dialects),
    ]
    fast_handlers = {path: h for d in dialects for path, h in d.fast_handlers.items()}
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(FastLane, handlers=fast_handlers)],
    )


def _mounts(dialects: list[Dialect]) -> list[Mount]:
    """A mount per dialect prefix, longest prefix first: /api/v1/auth (Djoser) must be tried
    before /api/v1 (envelope), /auth/jwt before /auth."""
    pairs = [(prefix, d.app) for d in dialects for prefix in d.prefixes]
    return [Mount(prefix, app=app) for prefix, app in sorted(pairs, key=lambda p: -len(p[0]))]


def app_from_environment() -> Starlette:
    """The app configured from AUTHGATE_* variables: uvicorn's factory for `authgate serve`."""
    return create_app(Settings())
