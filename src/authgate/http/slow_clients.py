"""Bounds on slow and numerous clients (slowloris), so that a client trickling its request
cannot hold a connection and a request forever.

- The head (request line and headers): uvicorn's parsers set no deadline of their own (its
  keep-alive timeout covers only an idle connection between requests, and is cancelled by the
  first byte of the next one). BoundedProtocol, uvicorn's httptools protocol with one timer
  per connection, closes a connection that has not completed a request head within
  AUTHGATE_REQUEST_RECEIVE_TIMEOUT_SECONDS of being opened or of its last answer.
- The body: the same timer answers 408 (`Connection: close`) and closes the connection when a
  request's body has not all arrived within that time of its head. Under another server,
  BodyTimeout, the outermost ASGI layer, bounds the app's reading of the body instead: a timer
  per request with a body, which the protocol's check spares `authgate serve` (it cost the
  envelope's check_token a tenth more instructions per answer).
- Many connections: uvicorn's `limit_concurrency` (AUTHGATE_MAX_CONNECTIONS_PER_WORKER)
  answers 503 to new requests while a worker holds that many connections or requests.

`authgate serve` runs uvicorn with server_options(); another server running create_app's app
gets BodyTimeout's body bound only (put a proxy's own timeouts before it).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from authgate.http.answer_heads import KnownHeadersCycle, head_lines_of
from authgate.http.security_headers import security_headers
from authgate.settings import Settings

TIMED_OUT = b'{"detail":"Request timeout: the request was not received in time."}'
# Set in a request's scope by BoundedProtocol: its body is bounded already.
BODY_BOUNDED = "authgate.body_bounded"


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options bounding slow clients and the connections of a worker. The protocol is
    a partial of a module-level class, so it pickles for `--workers N`."""
    return {
        "http": functools.partial(
            BoundedProtocol,
            timeout_seconds=settings.request_receive_timeout_seconds,
            answer_headers=security_headers(
                hsts_seconds=settings.hsts_seconds,
                hsts_include_subdomains=settings.hsts_include_subdomains,
            ),
        ),
        "limit_concurrency": settings.max_connections_per_worker,
    }


class BoundedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose next request head is not
    complete within `timeout_seconds` of the connection opening or of the last answer (a head
    trickled byte by byte, or nothing sent at all), and answering 408 to a request whose body
    is not complete within `timeout_seconds` of its head. Its one timer per connection also
    closes a kept-alive connection on which nothing came within uvicorn's `timeout_keep_alive`
    of the last answer, which uvicorn does with a timer made per answer and cancelled by the
    next request's first bytes (some 7,000 instructions, 3% of a fast-lane answer)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        timeout_seconds: float,
        answer_headers: list[tuple[bytes, bytes]],
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._head_timeout = timeout_seconds
        # The bound on a wait after an answer while no byte of a next request has come.
        self._idle_timeout = min(timeout_seconds, float(self.timeout_keep_alive))
        self._timed_out = _raw_answer(answer_headers)
        # The lines of the headers on every answer, checked once (http/answer_heads.py).
        self._head_lines = head_lines_of(tuple(answer_headers))
        self._head_done_at = 0.0
        # When the last wait for a head began: the connection opening or the last answer
        # (None once the connection is gone). Whether it is still waiting is uvicorn's own
        # state (_waiting_for_head). One timer per connection reads both, rather than a timer
        # made and cancelled per request (a tenth of a fast-lane answer), and nothing is
        # recorded when a head completes (a call more per request).
        self._waiting_since: float | None = None
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._waiting_since = self.loop.time()
        self._head_timer = self.loop.call_later(self._head_timeout, self._check_head)

    def connection_lost(self, exc: Exception | None) -> None:
        self._waiting_since = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # The app's task is made, not yet run: it finds the mark, and sends through the
        # cycle's class set here (a subclass adding no state of its own but head_lines).
        self._head_done_at = self.loop.time()
        self.scope[BODY_BOUNDED] = True  # type: ignore[literal-required]
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:  # not on a websocket's upgrade
            cycle.__class__ = KnownHeadersCycle
            cycle.head_lines = self._head_lines  # type: ignore[attr-defined]

    def on_response_complete(self) -> None:
        # uvicorn's (HttpToolsProtocol.on_response_complete), but for its keep-alive timer:
        # _check_head closes an idle connection instead.
        self.server_state.total_requests += 1
        # With requests queued (pipelined), the next one's head is complete: it is the
        # current cycle, not answered, so no wait is counted until its own answer.
        now = self._waiting_since = self.loop.time()
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        # The timer may be set for a later deadline (a head's, or the app's at work): the
        # idle connection's is sooner. A comparison per answer; a new timer seldom.
        timer = self._head_timer
        if timer is not None and timer.when() > now + self._idle_timeout:
            timer.cancel()
            self._head_timer = self.loop.call_at(now + self._idle_timeout, self._check_head)

    def _check_head(self) -> None:
        """Close the connection if its wait for a head, or for the current request's body, has
        lasted the timeout (answering 408 first to a request not yet answered); else look
        again when the current wait (or a next one) could reach it."""
        self._head_timer = None
        if self.transport.is_closing():
            return
        cycle, now = self.cycle, self.loop.time()
        timeout = self._head_timeout
        if cycle is None or cycle.response_complete:  # uvicorn's latest head's cycle
            since: float | None = self._waiting_since
            # Answered, and no next request begun (uvicorn makes a new scope at its first
            # bytes): kept alive, idle.
            if cycle is not None and cycle.scope is self.scope:
                timeout = self._idle_timeout
        elif cycle.more_body and not cycle.waiting_for_100_continue:
            since = self._head_done_at
        else:
            since = None  # the app is at work, or waits to say "100 Continue"
        if since is not None and now - since >= timeout:
            if cycle is not None and not cycle.response_complete and not cycle.response_started:
                self.transport.write(self._timed_out)
            self.transport.close()
            return
        # While the app works, looked at again within the idle bound: its answer's wait then
        # needs no timer of its own (on_response_complete).
        next_check = since + timeout if since is not None else now + self._idle_timeout
        self._head_timer = self.loop.call_at(next_check, self._check_head)


def _raw_answer(headers: list[tuple[bytes, bytes]]) -> bytes:
    """BodyTimeout's 408, as bytes on the wire."""
    lines = [b"HTTP/1.1 408 Request Timeout", *(b"%s: %s" % pair for pair in _headers(headers))]
    return b"\r\n".join(lines) + b"\r\n\r\n" + TIMED_OUT


def _headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The 408's headers: JSON, its length, the connection closing, the security headers."""
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(TIMED_OUT)).encode()),
        (b"connection", b"close"),
        *headers,
    ]


class BodyTimeout:
    """ASGI middleware: the request's body must be received within `seconds` of the app being
    called, else the answer is 408 with `Connection: close` (uvicorn then closes the
    connection) and the app reads a disconnect. Reads after the body is complete (waiting for
    a disconnect) are not bounded."""

    def __init__(self, app: ASGIApp, seconds: float, headers: list[tuple[bytes, bytes]]) -> None:
        self._app = app
        self._seconds = seconds
        self._answer_headers = _headers(headers)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """Pass the request on with a bounded `receive`. Not a coroutine itself: a request
        without a body gets the app's, one frame fewer."""
        if scope["type"] != "http" or BODY_BOUNDED in scope or not _has_body(scope):
            # No body to wait for (most GETs, the fast lane's reads among them): nothing to
            # bound, and no wrapping of receive and send to pay for.
            return self._app(scope, receive, send)
        return self._bounded(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        deadline = asyncio.get_running_loop().time() + self._seconds
        body_complete = started = answered = False

        async def bounded_receive() -> Message:
            nonlocal body_complete, answered
            if answered:
                return {"type": "http.disconnect"}
            if body_complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                if not started:
                    answered = True
                    await self._answer(send)
                return {"type": "http.disconnect"}
            body_complete = message["type"] != "http.request" or not message.get("more_body")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 408 went out: whatever the app answers to the disconnect is moot
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, bounded_receive, tracking_send)
        except ClientDisconnect:
            if not answered:
                raise

    async def _answer(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 408, "headers": self._answer_headers})
        await send({"type": "http.response.body", "body": TIMED_OUT})


def _has_body(scope: Scope) -> bool:
    """Whether the request announces a body (a length other than 0, or chunks)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value != b"0")
        if name == b"transfer-encoding":
            return True
    return False
