"""The HTTP side of the metrics (authgate/metrics.py): `/metrics` behind its bearer token, the
request timer, and the dialect each request is for.

Requests are labelled by their route TEMPLATE (`/auth/users/{id}/`), read from the route
Starlette matched, never by the raw path: ids and junk paths would make a series each.
"""

from __future__ import annotations

import hmac
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from authgate.metrics import Metrics

PATH = "/metrics"
# The dialect a request is for, set around each dialect's mount: the core's login and
# registration events are counted under it (authgate/metrics.py). Outside a request (the
# CLI): "none". Here, not beside the counters, so that the dialects can set it without loading
# prometheus-client, which a worker with the metrics off never needs (bench/memory.py).
current_dialect: ContextVar[str] = ContextVar("authgate_dialect", default="none")
# A path no route took (a 404 outside every mount).
UNMATCHED = "unmatched"


def metrics_route(metrics: Metrics, token: str) -> Route:
    """GET /metrics for whoever sends `Authorization: Bearer <token>`; 401 for anyone else."""
    from authgate.metrics import CONTENT_TYPE  # the metrics are on: prometheus-client is loaded

    expected = f"Bearer {token}".encode()

    async def scrape(request: Request) -> Response:
        sent = request.headers.get("authorization", "").encode("latin-1")
        if not hmac.compare_digest(sent, expected):
            return Response(
                "Authentication credentials were not provided or are wrong.\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                media_type="text/plain",
            )
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    return Route(PATH, scrape, methods=["GET"])


class DialectScope:
    """Runs a mounted app of its own (the admin UI) with `current_dialect` set to its name,
    for the core's login and registration counts. The dialects' routers set their name
    themselves (dialects/base.py), a layer fewer per request."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self._app = app
        self._name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = current_dialect.set(self._name)
        try:
            await self._app(scope, receive, send)
        finally:
            current_dialect.reset(token)


class RequestTimer:
    """Observes each HTTP request the app answers: its latency, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        status = 500  # unless the app starts an answer

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            route = template(scope, root_path)
            self._metrics.request_answered(route, status, time.perf_counter() - started)


def template(scope: Scope, root_path: str) -> str:
    """The template of the route that answered: the mounts' prefixes (fixed strings here) and
    the innermost route's path. Starlette's routers record the route they matched in the scope
    they pass down, which is this very dict."""
    route = scope.get("route")
    prefix = scope.get("root_path", "")[len(root_path) :]
    if isinstance(route, Mount):
        return f"{prefix}/{{path}}"  # a mount that found no route of its own: its 404
    if isinstance(route, Route):
        return f"{prefix}{route.path}"
    return UNMATCHED
