"""A fast lane for the few requests every other service makes all the time.

`GET /auth/users/me/` and `POST /api/v1/check_token/` are asked on every request of the
services behind authgate. Their successful answer needs one cached token lookup; Starlette's
routing, middleware and Request/Response objects cost several times that. So the lane sits in
front of the app: for a registered (method, path) it may answer directly, and whenever its
handler returns None — no or odd credentials, an invalid token, anything but the plain
success — the request goes through the full app, which owns every error answer. The lane never
decides a failure, so the wire stays exactly what the regular views say. The handlers are
derived from the dialects' endpoints (dialects/lane.py).

A registered path may end with a parameter (`/user/{id}/`): when no (method, path) is
registered as such, the lane's handler of the first template whose part before `{id}` starts
the path is asked; it reads the id from the path itself, and declines what its route would not
match. Exact paths cost one dict lookup as before; the templates are tried only after a miss.

A handler of a method with a body (POST: the envelope dialect's `check_token`) gets the body,
read whole by the lane up to MAX_BODY bytes; when the handler declines, the app receives the
very same body, replayed, so a declined request loses nothing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authgate.http.lane_templates import PARAMETER
from authgate.http.request_ids import HEADER as REQUEST_ID, is_plain_id

# A handler gets the ASGI scope and the request's body (always b"" for GET and HEAD, whose
# body the lane never reads) and returns (status, extra headers, JSON body), or None for
# "take the app". The lane copies the extra headers, never changes them: a handler may give the
# same list to every answer.
FastAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]
FastHandler = Callable[[Scope, bytes], Awaitable[FastAnswer | None]]
# Told of each answer of the lane: its route (a registered path or template, so a bounded set)
# and seconds.
Answered = Callable[[str, float], None]
JSON_TYPE = (b"content-type", b"application/json")
# The Content-Length header of each answer's length below KEPT_LENGTHS, made once: made per
# answer, it cost a thousand instructions.
CONTENT_LENGTHS: dict[int, tuple[bytes, bytes]] = {}
KEPT_LENGTHS = 4096
# The lane's requests are small ({"username": ...}); a bigger body is the app's to read.
MAX_BODY = 16 * 1024
BODILESS_METHODS = frozenset({"GET", "HEAD"})
# Request headers, names and values together, past which a request is refused (431).
MAX_HEADER_BYTES = 16 * 1024
HEADERS_TOO_LARGE = b'{"detail":"Request header fields too large."}'


class FastLane:
    """ASGI middleware answering registered (method, path) pairs, and paths of registered
    templates, when their handler can."""

    def __init__(
        self,
        app: ASGIApp,
        handlers: Mapping[tuple[str, str], FastHandler],
        max_body: int = MAX_BODY,
        headers: Sequence[tuple[bytes, bytes]] = (),
        max_header_bytes: int = MAX_HEADER_BYTES,
        answered: Answered | None = None,
        echo_request_id: bool = False,
    ) -> None:
        self._app = app
        self._answered = answered
        # The request's own X-Request-ID, echoed in the lane's answers (http/request_ids.py:
        # the app's answers get theirs from the layer inside, when the lane declines). Found in
        # the loop that sizes the headers; b"" is no header's name.
        self._echoed_name = REQUEST_ID if echo_request_id else b""
        self._max_header_bytes = max_header_bytes
        self._handlers = {key: h for key, h in handlers.items() if PARAMETER not in key[1]}
        # Per method: (what precedes the id, the template, its handler), longest first.
        templates: dict[str, list[tuple[str, str, FastHandler]]] = {}
        for (method, path), handler in handlers.items():
            if PARAMETER in path:
                head = path[: path.index(PARAMETER)]
                templates.setdefault(method, []).append((head, path, handler))
        self._templates = {
            method: tuple(sorted(found, key=lambda t: -len(t[0])))
            for method, found in templates.items()
        }
        # Added to every answer of the lane (the security headers, http/security_headers.py):
        # the lane sits outside the app's middleware so its answers skip that layer's work.
        self._headers = list(headers)
        # Never more than the app's own body limit (http/limits.py), which the lane's reads
        # bypass: a body the app would refuse with 413 must not get the lane's success.
        self._max_body = min(max_body, MAX_BODY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: C901
        """Answer from the lane, or hand the request to the app (one function: every call
        made here, every answer of the lane pays)."""
        if scope["type"] == "http":
            # The HTTP parser (httptools) bounds no header: the first layer does, for everyone.
            # A plain loop, here: a generator's resumptions, or even a call, cost the answer.
            size, given, echoed_name = 0, None, self._echoed_name
            for name, value in scope["headers"]:
                size += len(name) + len(value)
                if name == echoed_name and given is None:
                    given = value
            if size > self._max_header_bytes:
                for message in _messages(431, HEADERS_TOO_LARGE, self._own_headers([], given)):
                    await send(message)
                return
            route = scope["path"]
            handler = self._handlers.get((scope["method"], route))
            if handler is None and self._templates:
                for head, template, candidate in self._templates.get(scope["method"], ()):
                    if route.startswith(head):
                        handler, route = candidate, template
                        break
            if handler is not None:
                # Timed only for the metrics: a clock read per answer is not free.
                started = time.perf_counter() if self._answered is not None else 0.0
                body: bytes | None = b""
                # The messages the lane took from `receive`, for the app when it declines:
                # `received`, or all of `read` when the body came in more than one.
                received: Message | None = None
                read: list[Message] | None = None
                if scope["method"] not in BODILESS_METHODS:
                    # The usual body, whole in one message, read here: _read_body would cost a
                    # coroutine and a list per answer.
                    received = await receive()
                    if received["type"] == "http.request" and not received.get("more_body"):
                        body = received.get("body", b"")
                        if len(body) > self._max_body:
                            body = None
                    else:
                        read = [received]
                        body = await _read_body(receive, self._max_body, read)
                answer: FastAnswer | None = None
                if body is not None:
                    # Called here, not in a helper: a coroutine less per answer.
                    try:
                        answer = await handler(scope, body)
                    except Exception:  # noqa: BLE001 the full view meets it and answers it
                        answer = None
                if answer is not None:
                    status, extra, payload = answer
                    # _messages(status, payload, self._own_headers(extra, given)), inline: two
                    # calls and a list less per answer.
                    payload_size = len(payload)
                    length = CONTENT_LENGTHS.get(payload_size)
                    if length is None:
                        length = (b"content-length", str(payload_size).encode())
                        if payload_size < KEPT_LENGTHS:
                            CONTENT_LENGTHS[payload_size] = length
                    headers = [JSON_TYPE, length, *extra, *self._headers]
                    if given is not None and is_plain_id(given):
                        headers.append((REQUEST_ID, given))
                    await send(
                        {"type": "http.response.start", "status": status, "headers": headers}
                    )
                    await send({"type": "http.response.body", "body": payload})
                    if self._answered is not None:  # the metrics: a sum, cheap (metrics.py)
                        self._answered(route, time.perf_counter() - started)
                    return
                if received is not None:  # declined: the app gets what the lane took, then the rest
                    receive = _replaying(read if read is not None else [received], receive)
        await self._app(scope, receive, send)

    def _own_headers(
        self, extra: list[tuple[bytes, bytes]], request_id: bytes | None
    ) -> list[tuple[bytes, bytes]]:
        headers = [*extra, *self._headers]
        if request_id is not None and is_plain_id(request_id):
            headers.append((REQUEST_ID, request_id))
        return headers


def _messages(
    status: int, payload: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[Message, Message]:
    """The ASGI messages of a JSON answer: its start, and its whole body."""
    length = (b"content-length", str(len(payload)).encode())
    start = [JSON_TYPE, length, *headers]
    return (
        {"type": "http.response.start", "status": status, "headers": start},
        {"type": "http.response.body", "body": payload},
    )


async def _read_body(receive: Receive, max_body: int, read: list[Message]) -> bytes | None:
    """Read the rest of the request's body, after the messages `read` already, appending each
    message to them (for the app to be given again): the body, or None if it is too big or
    the client left before sending it all."""
    size = sum(len(m.get("body", b"")) for m in read)
    while True:
        message = read[-1]
        if message["type"] != "http.request":
            return None  # http.disconnect: the app sees it too, after the replay
        if size > max_body:
            return None
        if not message.get("more_body", False):
            return b"".join(m.get("body", b"") for m in read)
        message = await receive()
        read.append(message)
        size += len(message.get("body", b""))


def _replaying(read: list[Message], receive: Receive) -> Receive:
    """A receive that gives the messages the lane took, in order, then defers to `receive`."""

    async def replay() -> Message:
        return read.pop(0) if read else await receive()

    return replay
