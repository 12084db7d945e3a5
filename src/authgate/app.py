"""create_app(settings) -> the Starlette app: every dialect mounted over one core."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp

from authgate import admin
from authgate.composition import build_core
from authgate.core.clock import Clock
from authgate.core.events import NO_EVENTS
from authgate.core.mail import Mailer
from authgate.core.passwords import Argon2Cost
from authgate.dialects import audit, cookie_jwt, directory, djoser, envelope, jwks, simplejwt
from authgate.dialects.base import Dialect, DialectRouter
from authgate.http import health, log_redaction
from authgate.http.callers import CallerMiddleware
from authgate.http.fast_lane import FastHandler, FastLane
from authgate.http.limits import BodyLimit
from authgate.http.metrics import DialectScope, RequestTimer, metrics_route
from authgate.http.openapi import SWAGGER_UI_PATH, SwaggerUiFiles, build_document, swagger_ui
from authgate.http.request_ids import AccessLog, RequestIds
from authgate.http.secure_cookies import dev_cookie_note
from authgate.http.security_headers import SecurityHeaders, security_headers
from authgate.http.slow_clients import BodyTimeout
from authgate.mailer import build_mailer
from authgate.settings import Settings, load_settings
from authgate.store import open_store
from authgate.store.revisions import shipped_revisions

if TYPE_CHECKING:
    from authgate.metrics import Metrics

DJOSER_PREFIXES = ("/auth", "/api/v1/auth")
ENVELOPE_PREFIXES = ("/api/v1", "/api/v1/accounts")
COOKIE_JWT_PREFIXES = ("/u/api",)
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# What a browser client of any dialect sends: credentials, bodies, language, /u/api/'s CSRF.
CORS_HEADERS = ("Authorization", "Content-Type", "Accept", "Accept-Language", "X-CSRF-Token")
log = logging.getLogger("authgate")


def create_app(
    settings: Settings,
    *,
    mailer: Mailer | None = None,
    clock: Clock | None = None,
    argon2: Argon2Cost | None = None,
    fast_lane: bool = True,
) -> AuthgateApp:
    """The whole service. The store connects when the app starts and closes when it stops.
    `argon2` replaces the settings' hashing cost, and `fast_lane=False` sends every request
    through the full app (tests only: no setting reaches them)."""
    log_redaction.install()
    store = open_store(
        settings.database_url,
        pool_size=settings.database_pool_size,
        timeout_seconds=settings.database_timeout_seconds,
    )
    # Off unless a token is set: nothing is counted, and /metrics is a 404 (docs/metrics.md).
    metrics = _metrics(settings) if settings.metrics_token is not None else None
    core = build_core(
        settings,
        store,
        mailer or build_mailer(settings),
        clock,
        metrics or NO_EVENTS,
        argon2=argon2,
    )
    dialects = [
        djoser.build(core, DJOSER_PREFIXES),
        envelope.build(core, ENVELOPE_PREFIXES),
        simplejwt.build(core, ("/auth/jwt",)),
        cookie_jwt.build(core, COOKIE_JWT_PREFIXES),
        *directory.build(core),  # /user/<id>/, /api/towns/, /api/groups/, /api/permissions/
        audit.build(core),  # /api/audit/ (staff)
    ]
    document = build_document(dialects)

    async def openapi(_: Request) -> Response:
        return JSONResponse(document)

    async def docs(_: Request) -> Response:
        return swagger_ui()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if settings.env == "dev":
            _warn_of_dev_mode(settings)
            if (note := dev_cookie_note(settings)) is not None:
                log.warning(note)  # what a script over plain HTTP must know (secure_cookies.py)
        await store.connect()
        await core.start()
        if metrics is not None:
            metrics.watch(core.audit, store)
            metrics.start()
        try:
            yield
        finally:
            await core.close()
            if metrics is not None:
                await metrics.stop()
            await store.close()

    readiness = health.Readiness(store, shipped_revisions(), settings.redis_url)
    routes = [
        *health.routes(readiness),  # /healthz, /readyz
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Mount(SWAGGER_UI_PATH, app=SwaggerUiFiles()),
        jwks.route(core),
        *_mounts(dialects, named=metrics is not None),
    ]
    if settings.admin_enabled:  # the staff UI (src/authgate/admin), session login
        # A Starlette app of its own, mounted as such: HTML pages with their own middleware
        # (sessions, CSRF) and error pages, unlike the dialects, which are plain routes.
        admin_app: ASGIApp = admin.build(core)
        if metrics is not None:
            admin_app = DialectScope(admin_app, "admin")
        routes.append(Mount(admin.PREFIX, app=admin_app))
    if metrics is not None and settings.metrics_token is not None:
        routes.append(metrics_route(metrics, settings.metrics_token.get_secret_value()))
    fast_handlers = (
        {path: h for d in dialects for path, h in d.fast_handlers.items()} if fast_lane else {}
    )
    app = AuthgateApp(
        settings,
        fast_handlers,
        metrics,
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
            # Who asks, for throttling and the audit log (the lane's answers need neither).
            Middleware(
                CallerMiddleware,
                trusted_proxies=settings.trusted_proxies,
                ipv6_prefix=settings.throttle_ipv6_prefix,
            ),
        ],
    )
    _no_slash_redirects(app.router)
    return app


def _metrics(settings: Settings) -> Metrics:
    """The metrics, imported only when they are on: prometheus-client is some 1 MiB of a
    worker's memory (bench/memory.py) that a worker with the metrics off never uses."""
    from authgate.metrics import Metrics

    return Metrics(settings)


def _no_slash_redirects(router: Router) -> None:
    """Turn off Starlette's slash redirects in `router` and every router mounted below it (the
    dialects' routers, built without them, and the admin's): they build an absolute Location
    from the Host header, an open redirect, and their 307 makes a client re-send a login's
    password to the named host. The dialects answer their paths with and without the slash
    themselves; the admin's paths have one spelling, the other is a 404."""
    router.redirect_slashes = False
    for route in router.routes:
        if isinstance(route, Mount):
            mounted = getattr(route.app, "router", route.app)
            if isinstance(mounted, Router):
                _no_slash_redirects(mounted)


class AuthgateApp(Starlette):
    """Starlette with layers outside its own stack, outermost first: the body's receive
    timeout (http/slow_clients.py, so the lane's reads are bounded too), the fast lane
    (http/fast_lane.py), then the security headers, which thus cover Starlette's own 500
    answer as well (its error middleware is outside any middleware passed in). The lane adds
    the same headers to its answers itself, so the hot path pays for no extra layer. With CORS
    configured: the headers, CORS (so the lane's answers carry it too), the lane. The body limit
    (http/limits.py) is inside: only the app's reads go through it; the lane reads at most its
    own small limit, never more than this one. The request id (http/request_ids.py) wraps the
    app inside the lane, which adds the header to its own answers; with the access log on, it
    is the outermost layer."""

    def __init__(
        self,
        settings: Settings,
        fast_handlers: dict[tuple[str, str], FastHandler],
        metrics: Metrics | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._settings = settings
        self._fast_handlers = fast_handlers
        self._metrics = metrics

    @property
    def lane_routes(self) -> frozenset[tuple[str, str]]:
        """The (method, path) pairs the fast lane may answer."""
        return frozenset(self._fast_handlers)

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack, wrapped."""
        settings = self._settings
        headers = security_headers(
            hsts_seconds=settings.hsts_seconds,
            hsts_include_subdomains=settings.hsts_include_subdomains,
        )
        inner = super().build_middleware_stack()
        metrics = self._metrics
        answered = None
        if metrics is not None:
            # Around Starlette's own error layer, so a 500 is observed too; the lane's answers
            # are counted by the lane (the timer would cost them more than they may pay).
            inner = RequestTimer(inner, metrics)
            answered = metrics.lane_answered
        max_body = settings.max_body_bytes
        timeout = settings.request_receive_timeout_seconds
        # The request id: around the app inside the lane, the lane adding it to its own answers;
        # with the access log, which logs the lane's answers too, the outermost layer.
        access = (
            AccessLog(self._fast_handlers, settings.trusted_proxies)
            if settings.access_log
            else None
        )
        if access is None:
            inner, lane_ids = RequestIds(inner), True
        else:
            lane_ids = False
        if not settings.cors_allowed_origins:
            lane = FastLane(
                SecurityHeaders(inner, headers),
                self._fast_handlers,
                max_body,
                headers,
                settings.max_header_bytes,
                answered,
                lane_ids,
            )
            outer: ASGIApp = BodyTimeout(lane, timeout, headers)
            return outer if access is None else RequestIds(outer, access)
        # CORS answers preflights itself, and must see the lane's answers: the headers go
        # around both (the hot path then pays for that layer, only with CORS on).
        cors = CORSMiddleware(
            FastLane(
                inner,
                self._fast_handlers,
                max_body,
                (),
                settings.max_header_bytes,
                answered,
                lane_ids,
            ),
            allow_origins=list(settings.cors_allowed_origins),
            # Only these origins are ever echoed, so credentials go to them alone.
            allow_credentials=True,
            allow_methods=list(CORS_METHODS),
            allow_headers=list(CORS_HEADERS),
            max_age=600,
        )
        outer = BodyTimeout(SecurityHeaders(cors, headers), timeout, headers)
        return outer if access is None else RequestIds(outer, access)


def _warn_of_dev_mode(settings: Settings) -> None:
    """dev is for a developer's machine (a generated secret key; without SMTP, every email,
    live reset and activation links included, in the log): say so at each start, loudly."""
    where = (
        f"by SMTP through {settings.smtp_host}"
        if settings.smtp_host
        else "to this log, live activation and password-reset links included"
    )
    log.warning(
        "DEVELOPMENT MODE (AUTHGATE_ENV=dev), not for real users: emails go %s. For anything "
        "real set AUTHGATE_ENV=prod, with AUTHGATE_SECRET_KEY and AUTHGATE_SMTP_HOST.",
        where,
    )


def _mounts(dialects: list[Dialect], *, named: bool = False) -> list[Mount]:
    """Each dialect's router (dialects/base.py: its routes, no app of its own) mounted at each
    of its prefixes. The outer router takes the first mount whose prefix matches, so a prefix
    must come before every prefix it extends (/api/v1/auth, Djoser, before /api/v1, the
    envelope; /auth/jwt before /auth); otherwise the dialects' order is kept, the first
    declared tried first (fewer prefixes tried per request than longest-first: /auth,
    Djoser's, is second instead of tenth). `named`: each runs under its dialect's name, for the
    metrics' login counts."""
    ordered: list[tuple[str, DialectRouter]] = []
    for dialect in dialects:
        router = DialectRouter(
            dialect.routes, dialect.http_exception, dialect.name if named else None
        )
        for prefix in dialect.prefixes:
            extended = (i for i, (p, _) in enumerate(ordered) if prefix.startswith(p + "/"))
            ordered.insert(next(extended, len(ordered)), (prefix, router))
    return [Mount(prefix, app=router) for prefix, router in ordered]


def app_from_environment() -> Starlette:
    """The app configured from AUTHGATE_* variables: uvicorn's factory for `authgate serve`."""
    return create_app(load_settings())
