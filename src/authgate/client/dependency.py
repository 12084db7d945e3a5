"""A dependency for Starlette handlers and FastAPI's `Depends`, without importing FastAPI:
FastAPI calls `RequireIdentity.__call__` with the request (it reads the `Request` annotation).
Needs Starlette (the service's own, as FastAPI brings it); `authgate_guard` imports this
module only when `RequireIdentity` is asked for.

    require = RequireIdentity(Guard("http://authgate:8000"))

    @app.get("/rooms")                                   # FastAPI
    async def rooms(identity: Identity = Depends(require)): ...

    async def rooms(request: Request) -> Response:       # Starlette
        identity = await require(request)

A refusal is the middleware's answer, whichever framework: 401 or 503 with
`{"detail": ...}` (answers.json_refusal).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .answers import json_refusal, refusal
from .asgi import SCOPE_KEY
from .errors import AuthgateClientError
from .guard import Guard
from .identity import Identity

EXCEPTION_HANDLERS_KEY = "starlette.exception_handlers"
"""Where Starlette's ExceptionMiddleware puts the app's handlers for the request's handlers."""


class IdentityRefused(HTTPException):
    """RequireIdentity's refusal: an HTTPException (401 or 503), answered as JSON."""

    def __init__(self, error: AuthgateClientError) -> None:
        status, detail, headers = refusal(error)
        super().__init__(status, detail=detail, headers=headers)
        self.error = error


def answer_refusal(request: Request, refused: Exception) -> Response:
    """The answer to an IdentityRefused: the middleware's JSON, status and headers."""
    assert isinstance(refused, IdentityRefused)  # noqa: S101 registered for that class only
    status, body, headers = json_refusal(refused.error)
    return Response(body, status_code=status, headers=headers)


def _answer_as_json(request: Request) -> None:
    """Make the app serving `request` answer IdentityRefused with `answer_refusal`.

    Starlette words every HTTPException as plain text, so a refusal raised in a handler would
    not read as the middleware's; its exception middleware looks handlers up by the
    exception's class in the table it hands each request, so the handler is added there for
    this class only (an app's own handler for IdentityRefused stays; FastAPI's answer for
    HTTPException is the same JSON anyway)."""
    tables = request.scope.get(EXCEPTION_HANDLERS_KEY)
    if isinstance(tables, tuple) and tables and isinstance(tables[0], dict):
        tables[0].setdefault(IdentityRefused, answer_refusal)


class RequireIdentity:
    """Resolve the request's identity or raise IdentityRefused (401/503). Reuses the identity
    the middleware already established, if it ran."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    async def __call__(self, request: Request) -> Identity:
        established = request.scope.get(SCOPE_KEY)
        if isinstance(established, Identity):
            return established
        try:
            identity = await self.guard.authenticate(request.headers.get("authorization"))
        except AuthgateClientError as error:
            _answer_as_json(request)
            raise IdentityRefused(error) from error
        request.scope[SCOPE_KEY] = identity
        return identity
