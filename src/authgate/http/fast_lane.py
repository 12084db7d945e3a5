"""A fast lane for the few requests every other service makes all the time.

`GET /auth/users/me/` (and later `check_token`) is asked on every request of the services
behind authgate. Its successful answer needs one cached token lookup; Starlette's routing,
middleware and Request/Response objects cost several times that. So the lane sits in front of
the app: for a registered (method, path) it may answer directly, and whenever its handler
returns None — no or odd credentials, an invalid token, anything but the plain success — the
request goes through the full app, which owns every error answer. The lane never decides a
failure, so the wire stays exactly what the regular views say.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

# A handler gets the ASGI scope and returns (status, extra headers, JSON body), or None for
# "take the app".
FastAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]
FastHandler = Callable[[Scope], Awaitable[FastAnswer | None]]
JSON_TYPE = (b"content-type", b"application/json")


class FastLane:
    """ASGI middleware answering registered (method, path) pairs when their handler can."""

    def __init__(self, app: ASGIApp, handlers: Mapping[tuple[str, str], FastHandler]) -> None:
        self._app = app
        self._handlers = dict(handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer from the lane, or hand the request to the app."""
        if scope["type"] == "http":
            handler = self._handlers.get((scope["method"], scope["path"]))
            if handler is not None:
                answer = await handler(scope)
                if answer is not None:
                    status, extra, body = answer
                    headers = [JSON_TYPE, (b"content-length", str(len(body)).encode()), *extra]
                    await send(
                        {"type": "http.response.start", "status": status, "headers": headers}
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self._app(scope, receive, send)


def single_headers(scope: Scope, names: frozenset[bytes]) -> dict[bytes, bytes] | None:
    """The request's headers among `names` (lowercase), or None if one was sent twice: the
    lane leaves such requests to the app rather than guess which one counts."""
    found: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        if key in names:
            if key in found:
                return None
            found[key] = value
    return found
