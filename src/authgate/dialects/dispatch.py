"""Dispatch: every method of a path reaches one view (EveryMethod). For the dialects with an
error shape of their own (envelope, /u/api/), that view runs the method's handler and turns
every failure — a wrong method, Starlette's 404 inside the mount, an unexpected error — into
the dialect's answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import Receive, Scope, Send

from authgate.dialects.endpoints import Endpoint
from authgate.http.errors import MethodNotAllowedError, PathNotFoundError

View = Callable[[Request], Awaitable[Response]]
ErrorResponse = Callable[[Request, Exception], Response]


class EveryMethod:
    """A view as a plain ASGI app, which Starlette routes every method to (a function endpoint
    gets GET only, or a fixed list). The view then authenticates before it answers 405, as
    DRF does, for TRACE or an unknown method too."""

    def __init__(self, view: Callable[[Request], Awaitable[Response]]) -> None:
        self._app = request_response(view)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        await self._app(scope, receive, send)


def endpoint_view(endpoint: Endpoint, error_response: ErrorResponse, *, head_as_get: bool) -> View:
    """The view of one endpoint: its method's handler, every failure `error_response`."""
    allowed = ", ".join(endpoint.operations)

    async def view(request: Request) -> Response:
        method = "GET" if head_as_get and request.method == "HEAD" else request.method
        operation = endpoint.operations.get(method)
        try:
            if operation is None:
                raise MethodNotAllowedError(method=request.method, allowed=allowed)
            return await operation.handler(request, None)
        except ClientDisconnect:
            # The client left mid-body: nobody to answer, nothing to log as an error.
            return Response(status_code=400)
        except Exception as error:  # noqa: BLE001 every failure answers in the dialect's shape
            return error_response(request, error)

    return view


def every_method_routes(
    table: list[Endpoint], view_of: Callable[[Endpoint], View]
) -> list[BaseRoute]:
    """A route per endpoint, also without its trailing slash, taking every method (the view
    answers a wrong one in the dialect's shape)."""
    routes: list[BaseRoute] = []
    for endpoint in table:
        app = EveryMethod(view_of(endpoint))
        routes += [Route(endpoint.path, app), Route(endpoint.path.rstrip("/"), app)]
    return routes


def http_exception_handler(
    error_response: ErrorResponse,
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """Starlette's own exceptions inside the dialect's mount: 404 as the dialect's not-found."""

    async def handle(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return error_response(request, PathNotFoundError())
        return error_response(request, exc)

    return handle
