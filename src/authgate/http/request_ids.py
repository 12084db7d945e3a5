"""Each request's id, and the access log.

The id is the request's `X-Request-ID` when that is a plain token (1 to 128 letters, digits or
`._:+/=-`: a proxy's or a client's id then follows the request through), else a new one (32
random hex digits). Every log record written while the request is handled carries it
(logs.request_id), and the answer returns it in `X-Request-ID`.

The fast lane's answers (http/fast_lane.py: `me` and `check_token` when they succeed) log
nothing; they echo the request's own id and make none (request_id_header), and the middleware
sits inside the lane, around the app the lane declines to. Measured with two servers at once on
one core (bench, paired rounds): one more answer header, even a constant one, costs the lane's
answer about 7% more server CPU, far beyond the Python around it (about 1 µs in-process). With
the access log on, the middleware is the outermost layer instead: every answer, the lane's
too, then gets an id, logged.

With AUTHGATE_ACCESS_LOG on, one record per request on `authgate.access`: the method, the route
template (`/auth/users/{id}/`: never the path as sent, nor its query string, which may carry a
token), the status, the time taken and the client's address. A request no route matched logs
`-` as its route. /healthz and /readyz, asked every few seconds by orchestrators, log at DEBUG.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Collection

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authgate.http.callers import ClientAddresses
from authgate.http.lane_templates import PARAMETER, id_in
from authgate.logs import request_id

HEADER = b"x-request-id"
_PLAIN_ID = re.compile(rb"[A-Za-z0-9._:+/=-]{1,128}")
PROBE_PATHS = frozenset({"/healthz", "/readyz"})
access_logger = logging.getLogger("authgate.access")


def new_request_id() -> str:
    """32 random hex digits, like uuid4().hex. Not from os.urandom: a system call per request
    costs the fast lane's answer more than a few percent, and an id needs no secrecy (a client
    picks its own by sending one). `random` reseeds itself in a forked child."""
    return "%032x" % random.getrandbits(128)  # noqa: UP031 the fastest form


def request_id_header(scope: Scope) -> tuple[bytes, bytes] | None:
    """The request's own `X-Request-ID` header if it is a plain token, else None. The fast
    lane's answers echo it and make none when it is absent: they log
    nothing, so an id made for them would name no log line; and the header alone, whatever
    its value, cost the lane's answer some 7% more server CPU (see the module's docstring)."""
    for name, value in scope["headers"]:
        if name == HEADER:
            return (HEADER, value) if is_plain_id(value) else None
    return None


def is_plain_id(value: bytes) -> bool:
    """Whether a request's id is a plain token, fit to echo and to log."""
    return _PLAIN_ID.fullmatch(value) is not None


class RequestIds:
    """ASGI middleware: a request id for each HTTP request, set for its log records and
    returned in its answer; with `access` given, an access-log record once it is answered.

    Not a coroutine itself: it returns the app's, one frame fewer per request. The id is set in
    the context of the request's task, each its own under uvicorn, and is not reset: uvicorn's
    record of an error the app raised still carries it."""

    def __init__(self, app: ASGIApp, access: AccessLog | None = None) -> None:
        self._app = app
        self._access = access

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """Serve the request under its id."""
        if scope["type"] != "http":
            return self._app(scope, receive, send)
        given = request_id_header(scope)
        if given is not None:
            header = given
            request_id.set(given[1].decode("ascii"))
        else:
            made = new_request_id()
            header = (HEADER, made.encode("ascii"))
            request_id.set(made)
        if self._access is not None:
            return self._access.serve(self._app, scope, receive, _with_header(send, header))
        return self._app(scope, receive, _with_header(send, header))


def _with_header(send: Send, header: tuple[bytes, bytes]) -> Send:
    # A plain function handing back send's awaitable: no coroutine of its own per message.
    def send_with_id(message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), header]
        return send(message)

    return send_with_id


class AccessLog:
    """Writes the access-log record of each request it serves."""

    def __init__(
        self, fast_paths: Collection[tuple[str, str]], trusted_proxies: Collection[str] = ()
    ) -> None:
        # The fast lane answers these (method, path) pairs before any router sees them: each
        # path is a route of its own, and its own template; a template (`/user/{id}/`) is
        # the route of the paths it takes.
        self._fast_paths = frozenset(fast_paths)
        self._fast_templates = [
            (method, path[: path.index(PARAMETER)], path)
            for method, path in fast_paths
            if PARAMETER in path
        ]
        self._addresses = ClientAddresses(trusted_proxies)

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request through `app`, logging it as its last byte is handed over (so
        the record is written before the client can have the whole answer), or as 500 if the
        app fails before."""
        started = time.perf_counter()
        status = 0
        logged = False

        async def send_logging(message: Message) -> None:
            nonlocal status, logged
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
            elif kind == "http.response.body" and not message.get("more_body") and not logged:
                logged = True
                self.write(scope, status, time.perf_counter() - started)
            await send(message)

        try:
            await app(scope, receive, send_logging)
        finally:
            if not logged:
                self.write(scope, status or 500, time.perf_counter() - started)

    def write(self, scope: Scope, status: int, seconds: float) -> None:
        """The record of one answered request."""
        path = scope["path"]
        level = logging.DEBUG if path in PROBE_PATHS else logging.INFO
        if not access_logger.isEnabledFor(level):
            return
        method = scope["method"]
        route = route_template(scope)
        if route is None and (method, path) in self._fast_paths:
            route = path
        elif route is None:
            for lane_method, head, template in self._fast_templates:
                if method == lane_method and path.startswith(head) and id_in(path, len(head)):
                    route = template
        fields = {
            "method": method,
            "route": route or "-",
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "client": self._addresses.of(scope) or "-",
        }
        access_logger.log(
            level,
            "%s %s %d %.1fms %s",
            *(fields[key] for key in ("method", "route", "status", "duration_ms", "client")),
            extra=fields,
        )


def route_template(scope: Scope) -> str | None:
    """The template of the route that answered (`/auth/users/{id}/`), after the app did; None
    when none matched. Starlette's routers record the innermost route in the scope, and each
    mount on the way adds its prefix to `root_path` (every mount of the app is a fixed prefix)."""
    route = scope.get("route")
    if route is None:
        return None
    root: str = scope.get("root_path", "")
    if isinstance(route, Mount):  # a mounted app without routes of its own (static files)
        return root + "/{path}"
    path = getattr(route, "path", None)
    return root + path if isinstance(path, str) else None
