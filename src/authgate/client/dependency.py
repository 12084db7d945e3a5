"""A dependency for Starlette handlers and FastAPI's `Depends`, without importing FastAPI:
FastAPI calls `RequireIdentity.__call__` with the request (it reads the `Request` annotation)
and turns Starlette's HTTPException, which FastAPI's own subclasses, into the answer.

    require = RequireIdentity(Guard("http://authgate:8000"))

    @app.get("/rooms")                                   # FastAPI
    async def rooms(identity: Identity = Depends(require)): ...

    async def rooms(request: Request) -> Response:       # Starlette
        identity = await require(request)
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

from .answers import refusal
from .asgi import SCOPE_KEY
from .errors import AuthgateClientError
from .guard import Guard
from .identity import Identity


class RequireIdentity:
    """Resolve the request's identity or raise HTTPException(401/503). Reuses the identity
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
            status, detail, headers = refusal(error)
            raise HTTPException(status, detail=detail, headers=headers) from error
        request.scope[SCOPE_KEY] = identity
        return identity
