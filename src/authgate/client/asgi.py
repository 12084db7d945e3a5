"""An ASGI middleware that lets through only requests bearing a token authgate vouches for.

Pure ASGI (no framework): wrap any app. The identity is put in the scope's `state` (Starlette's
`request.state.authgate_identity`, see `identity_of`) and under `scope["authgate.identity"]`.
Refusals are 401 or 503 JSON answers; a websocket is closed instead (1008 / 1013).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from .answers import json_refusal, refusal
from .errors import AuthgateClientError
from .guard import Guard
from .identity import Identity

# ASGI's types, as Starlette spells them (starlette.types), without needing Starlette.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATE_KEY = "authgate_identity"
SCOPE_KEY = "authgate.identity"
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


def _authorization(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text: str = value.decode("latin-1")
            return text
    return None


class AuthgateMiddleware:
    """Guard every HTTP request and websocket whose path starts with one of `prefixes` (all
    by default), or for which `protect(path)` says so."""

    def __init__(
        self,
        app: ASGIApp,
        guard: Guard,
        *,
        prefixes: Sequence[str] = ("/",),
        protect: Callable[[str], bool] | None = None,
    ) -> None:
        self.app = app
        self.guard = guard
        self._protect = protect or (lambda path: path.startswith(tuple(prefixes)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self._protect(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            identity = await self.guard.authenticate(_authorization(scope))
        except AuthgateClientError as error:
            await _refuse(scope, send, error)
            return
        scope.setdefault("state", {})[STATE_KEY] = identity
        scope[SCOPE_KEY] = identity
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, error: AuthgateClientError) -> None:
    if scope["type"] == "websocket":
        status, detail, _ = refusal(error)
        code = POLICY_VIOLATION if status == 401 else TRY_AGAIN_LATER
        await send({"type": "websocket.close", "code": code, "reason": detail})
        return
    status, body, headers = json_refusal(error)
    raw_headers = [
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def identity_of(scope: Scope) -> Identity:
    """The identity the middleware established for this request (KeyError if it did not run:
    a route outside its prefixes)."""
    identity: Identity = scope[SCOPE_KEY]
    return identity
