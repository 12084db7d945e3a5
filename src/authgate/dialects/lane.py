"""The fast lane's handlers (http/fast_lane.py), derived from the dialects' endpoints: an operation
that declares its plain success (`Operation.answer_of`, or `answer_by_id` for a `/{id}/` path, which
the lane matches by its prefix) is served by the lane whenever that success is the answer, for every
scheme its dialect takes (opaque token, JWT, session). The lane authenticates through the dialect's
Authenticator, the very path of the full view, which reuses the outcome when the lane declines
(dialects/authenticator.py); the dialect renders the success as its full view does. Anything but the
plain success — no or bad credentials, a body the lane does not read, a success that is not plain —
is declined, so the app answers every failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson
from starlette.types import Scope

from authgate.core.models import Principal
from authgate.dialects.authenticator import Authenticator
from authgate.dialects.endpoints import NO_FIELDS, Endpoint, Fields, PlainSuccess, SuccessById
from authgate.http.fast_lane import BODILESS_METHODS, FastAnswer, FastHandler
from authgate.http.lane_templates import PARAMETER, id_in

JSON_MEDIA_TYPE = b"application/json"
# The spellings of plain JSON that clients send, known without _is_plain_json's parse (which
# takes every other spelling it judges plain).
PLAIN_JSON_TYPES = frozenset(
    {
        JSON_MEDIA_TYPE,
        b"application/json; charset=utf-8",
        b"application/json; charset=UTF-8",
        b"application/json;charset=utf-8",
        b"application/json;charset=UTF-8",
    }
)
# The values of a body's fields the lane leaves to the full view's parser.
NESTED = (dict, list)
PlainAnswer = Callable[[str | None, Any], FastAnswer]
"""A dialect's rendering of a plain success (what answer_of returned) for one endpoint, in the
language the request's Accept-Language header asks for (None: not sent)."""
Serves = Callable[[str], bool]
"""Whether the full view could answer a request with this Accept header with a success at
all (DRF: the header finds a renderer); a request without the header always may."""
# The headers the lane reads itself (the credentials are the schemes' to read); their first
# value counts, as for Starlette's Headers.get, which the full view reads.
ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE = b"accept", b"accept-language", b"content-type"
LANE_HEADERS = frozenset({ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE})


class LaneRunner(Protocol):
    """What the lane needs of a dialect's views."""

    @property
    def authenticator(self) -> Authenticator:
        """The dialect's authentication, shared with its full views."""
        ...

    @property
    def serves(self) -> Serves | None:
        """The view's check of the Accept header, made before authenticating, as the view
        does; None for a dialect that negotiates nothing (any request may get the success)."""
        ...

    def plain_answer(self, endpoint: Endpoint) -> PlainAnswer:
        """How the endpoint's plain success is rendered: the bytes and headers of the view."""
        ...


def lane_handlers(
    runner: LaneRunner, prefixes: tuple[str, ...], endpoints: list[Endpoint]
) -> dict[tuple[str, str], FastHandler]:
    """The lane's handler of every operation with an `answer_of`, under each prefix, with
    and without the trailing slash; of every operation with an `answer_by_id`, under the
    path's template (`/user/{id}/`), which the lane matches by what precedes the id and
    whose handler takes the id with or without the trailing slash, as the routes do."""
    handlers: dict[tuple[str, str], FastHandler] = {}
    for endpoint in endpoints:
        for method, operation in endpoint.operations.items():
            if operation.public:
                continue
            reads_body = method not in BODILESS_METHODS
            if operation.answer_by_id is not None:
                if not endpoint.path.endswith("/" + PARAMETER + "/") or reads_body:
                    raise ValueError(f"{endpoint.path}: answer_by_id needs a GET of /{{id}}/")
                for prefix in prefixes:
                    template = prefix + endpoint.path
                    id_at = len(template) - len(PARAMETER) - 1
                    handlers[method, template] = _by_id_handler(
                        runner, operation.answer_by_id, endpoint, id_at
                    )
            elif operation.answer_of is not None:
                handler = _handler(runner, reads_body, operation.answer_of, endpoint)
                for prefix in prefixes:
                    path = prefix + endpoint.path
                    handlers[method, path] = handlers[method, path.rstrip("/")] = handler
    return handlers


def _handler(  # noqa: C901 one handler: each call it made, every answer of the lane paid
    runner: LaneRunner, reads_body: bool, answer_of: PlainSuccess, endpoint: Endpoint
) -> FastHandler:
    # What every answer uses, looked up once here rather than per answer.
    authenticate, serves, answer = _uses(runner, endpoint)

    async def handler(scope: Scope, body: bytes) -> FastAnswer | None:
        # _first_headers, inline: a call less on the answers of every request of every service
        first: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in LANE_HEADERS and name not in first:
                first[name] = value
        if serves is not None and ACCEPT in first and not serves(first[ACCEPT].decode("latin-1")):
            return None
        fields: Fields = NO_FIELDS
        if reads_body:
            # The body as a JSON object of plain values, else the view's: another media type
            # (forms included), a charset but UTF-8, or nested values, which the full view's
            # parser judges (its depth limits). Here, not in a helper: a call less per answer.
            content_type = first.get(CONTENT_TYPE)
            if (
                content_type != JSON_MEDIA_TYPE  # the usual one, cheaper compared than hashed
                and content_type not in PLAIN_JSON_TYPES
                and not _is_plain_json(content_type)
            ):
                return None
            try:
                fields = orjson.loads(body)
            except orjson.JSONDecodeError:
                return None
            if type(fields) is not dict:  # orjson makes plain dicts and lists, no subclasses
                return None
            # A loop: any() over a generator cost some 2,800 instructions more per answer, and
            # isinstance() looks up __class__ on each miss.
            for value in fields.values():
                if type(value) in NESTED:
                    return None
        principal = await authenticate(scope)
        if principal is None:
            return None
        success = answer_of(principal, fields)
        if success is None:
            return None
        language = first.get(ACCEPT_LANGUAGE)
        return answer(None if language is None else language.decode("latin-1"), success)

    return handler


def _by_id_handler(
    runner: LaneRunner, answer_by_id: SuccessById, endpoint: Endpoint, id_at: int
) -> FastHandler:
    """The handler of a GET of `/{id}/`, the id starting at `id_at` in the path."""
    authenticate, serves, answer = _uses(runner, endpoint)

    async def handler(scope: Scope, _: bytes) -> FastAnswer | None:
        given_id = id_in(scope["path"], id_at)
        if given_id is None:
            return None
        first = _first_headers(scope, serves)
        if first is None:
            return None
        principal = await authenticate(scope)
        if principal is None:
            return None
        success = await answer_by_id(principal, given_id)  # what it raises, the lane declines
        language = first.get(ACCEPT_LANGUAGE)
        return answer(None if language is None else language.decode("latin-1"), success)

    return handler


def _uses(
    runner: LaneRunner, endpoint: Endpoint
) -> tuple[Callable[[Scope], Awaitable[Principal | None]], Serves | None, PlainAnswer]:
    """What a handler of `endpoint` calls: the authentication, the Accept check, the answer."""
    return runner.authenticator.authenticate_for_lane, runner.serves, runner.plain_answer(endpoint)


def _first_headers(scope: Scope, serves: Serves | None) -> dict[bytes, bytes] | None:
    """The headers the lane reads, each its first value; None when the Accept header finds
    no renderer (the view's check, before authenticating)."""
    # The scope's headers read in place (no Headers, no HTTPConnection: they would cost a
    # visible share of an answer of a few microseconds).
    first: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in LANE_HEADERS and name not in first:
            first[name] = value
    if serves is not None and ACCEPT in first and not serves(first[ACCEPT].decode("latin-1")):
        return None
    return first


def _is_plain_json(content_type: bytes | None) -> bool:
    """`application/json`, with at most `charset=utf-8`."""
    if content_type is None:
        return False
    kind, *params = content_type.decode("latin-1").lower().split(";")
    if kind.strip() != "application/json":
        return False
    return all(p.replace(" ", "") in ("", "charset=utf-8") for p in params)
