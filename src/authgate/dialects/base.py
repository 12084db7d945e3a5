"""What the app needs of every dialect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# The function Route.matches reads a scope's path with, so the shortcut reads it alike.
from starlette._utils import get_route_path
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from authgate.dialects.drf.errors import DRF_ERROR_TABLE
from authgate.dialects.endpoints import Endpoint
from authgate.dialects.errors import documented_statuses
from authgate.dialects.security_schemes import SecurityScheme
from authgate.http.fast_lane import FastHandler
from authgate.http.metrics import current_dialect

HttpExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]
"""A dialect's answer to Starlette's HTTPException: a 404 for a path below its prefix that
none of its routes takes, in the dialect's shape."""


@dataclass(frozen=True, slots=True)
class ErrorDocs:
    """How a dialect's failures look, for the OpenAPI document: the JSON schema of an error
    body, its name among the document's schemas (one model in a generated client, not one per
    operation and status), and every error status its operations may answer (derived from
    its table of errors, dialects/errors.py)."""

    schema: dict[str, Any]
    name: str
    statuses: frozenset[int]


# DRF's shapes: `{"detail": "..."}`, or field -> messages (`non_field_errors` for the rest).
DRF_ERRORS = ErrorDocs(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {}},
                {"type": "object"},
            ]
        },
    },
    "DrfError",
    documented_statuses(DRF_ERROR_TABLE),
)


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the app needs of a dialect: its routes (paths below each of its prefixes) with
    its answer to Starlette's exceptions, its fast-lane handlers, and its endpoints for the
    OpenAPI document, with the schemes its endpoints that are not public take (any one of
    them): those of its DrfViews, or of the views that authenticate in their handlers."""

    name: str
    prefixes: tuple[str, ...]
    routes: list[BaseRoute]
    http_exception: HttpExceptionHandler
    fast_handlers: dict[tuple[str, str], FastHandler]
    endpoints: list[Endpoint]
    security: tuple[SecurityScheme, ...]
    errors: ErrorDocs = field(default=DRF_ERRORS)


class DialectRouter(Router):
    """A dialect's routes as the app mounts them at each of its prefixes: a plain router, not
    an app of its own (no middleware stack, error layer or exception layer to go through on
    each request). What a Starlette app per dialect gave, it keeps: Starlette's exceptions
    answered in the dialect's shape (a path below the prefix that no route takes, or an
    HTTPException of a view), no slash redirects, and, with the metrics on (`name` given),
    the dialect's name in `current_dialect` for the core's login and registration counts."""

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        http_exception: HttpExceptionHandler,
        name: str | None = None,
    ) -> None:
        super().__init__(routes, redirect_slashes=False, default=self._not_found)
        self._http_exception = http_exception
        # Where a view's request_response looks up the handler of a Starlette exception it
        # raises, as Starlette's exception layer would set it: (by exception class, by status).
        self._handlers: tuple[dict[Any, HttpExceptionHandler], dict[Any, Any]] = (
            {HTTPException: http_exception},
            {},
        )
        self._name = name
        self._exact = _exact_routes(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Starlette's routing, with a shortcut to the route of a path without parameters:
        a dialect has dozens of routes (Djoser's token login is its 23rd), each tried in turn."""
        if scope["type"] == "http":
            route = self._exact.get(get_route_path(scope))
            if route is not None:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:  # else the scan below finds what Starlette would
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["starlette.exception_handlers"] = self._handlers
        if self._name is None:
            await self.app(scope, receive, send)
            return
        token = current_dialect.set(self._name)
        try:
            await self.app(scope, receive, send)
        finally:
            current_dialect.reset(token)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        """No route of the dialect takes the path: its answer to Starlette's 404."""
        response = await self._http_exception(Request(scope, receive), HTTPException(404))
        await response(scope, receive, send)


def _exact_routes(routes: Sequence[BaseRoute]) -> dict[str, Route]:
    """The routes of paths without parameters that Starlette's scan would reach first for
    their own path: no route before them matches that path (a route of another kind before
    them, whose matching this does not know, ends the table)."""
    exact: dict[str, Route] = {}
    earlier: list[Route | Mount] = []
    for route in routes:
        if not isinstance(route, Route | Mount):
            break
        if isinstance(route, Route) and not route.param_convertors:
            path = route.path
            if path not in exact and not any(r.path_regex.match(path) for r in earlier):
                exact[path] = route
        earlier.append(route)
    return exact
