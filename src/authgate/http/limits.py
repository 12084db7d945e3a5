"""The request body limit, enforced where the body is read.

A middleware cannot answer 413 itself: the answer must be in the shape of the dialect that owns
the path. So the limit sits in `receive`: a body whose declared length is over the limit, or
whose chunks add up past it, makes the read raise PayloadTooLargeError inside the view, which
answers it like any other failure to read the request, before a byte of it is parsed and before
the core is asked anything. Requests whose view never reads the body are not affected.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authgate.http.errors import PayloadTooLargeError


class BodyLimit:
    """ASGI middleware: reading more than `max_bytes` of a request body raises
    PayloadTooLargeError (a RequestError each dialect maps to 413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a `receive` that counts."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, self._limited(scope, receive), tracking_send)
        except PayloadTooLargeError as error:
            # A view that reads its body itself (the admin's forms) and does not answer the
            # failure: a plain 413 rather than a 500.
            if started:
                raise
            detail = f"Request body is too large: the limit is {error.params['max_bytes']} bytes."
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        max_bytes = self._max_bytes
        declared = _content_length(scope)
        received = 0

        async def limited() -> Message:
            nonlocal received
            # A declared length over the limit fails before anything is read: the client
            # need not be waited for.
            if declared is not None and declared > max_bytes:
                raise PayloadTooLargeError(max_bytes=max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise PayloadTooLargeError(max_bytes=max_bytes)
            return message

        return limited


def _content_length(scope: Scope) -> int | None:
    """The request's Content-Length, if it sent a readable one (uvicorn's parsers refuse a
    malformed or repeated one before the app is called)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
