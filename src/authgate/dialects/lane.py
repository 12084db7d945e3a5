"""The fast lane's handlers (http/fast_lane.py), derived from the dialects' endpoints: an
operation that declares its plain success (`Operation.answer_of`) is served by the lane
whenever that success is the answer, for every scheme its dialect takes (opaque token, JWT,
session). The lane authenticates through the dialect's Authenticator, the very path of the
full view, which reuses the outcome when the lane declines (dialects/authenticator.py); the
dialect renders the success as its full view does. Anything but the plain success — no or bad
credentials, a body the lane does not read, a success that is not plain — is declined, so the
app answers every failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import orjson
from starlette.requests import HTTPConnection
from starlette.types import Scope

from authgate.dialects.authenticator import Authenticator
from authgate.dialects.endpoints import NO_FIELDS, Endpoint, Fields, PlainSuccess
from authgate.http.connection import Connection
from authgate.http.fast_lane import BODILESS_METHODS, FastAnswer, FastHandler

JSON_MEDIA_TYPE = "application/json"
PlainAnswer = Callable[[HTTPConnection, object], FastAnswer]
"""A dialect's rendering of a plain success (what answer_of returned) for one endpoint."""


class LaneRunner(Protocol):
    """What the lane needs of a dialect's views."""

    @property
    def authenticator(self) -> Authenticator:
        """The dialect's authentication, shared with its full views."""
        ...

    def serves(self, connection: HTTPConnection) -> bool:
        """Whether the full view could answer this request with a success at all (DRF: the
        Accept header finds a renderer), checked before authenticating, as the view does."""
        ...

    def plain_answer(self, endpoint: Endpoint) -> PlainAnswer:
        """How the endpoint's plain success is rendered: the bytes and headers of the view."""
        ...


def lane_handlers(
    runner: LaneRunner, prefixes: tuple[str, ...], endpoints: list[Endpoint]
) -> dict[tuple[str, str], FastHandler]:
    """The lane's handler of every operation with an `answer_of`, under each prefix, with
    and without the trailing slash."""
    handlers: dict[tuple[str, str], FastHandler] = {}
    for endpoint in endpoints:
        for method, operation in endpoint.operations.items():
            if operation.answer_of is None or operation.public:
                continue
            handler = _handler(runner, operation.answer_of, runner.plain_answer(endpoint))
            for prefix in prefixes:
                path = prefix + endpoint.path
                handlers[method, path] = handlers[method, path.rstrip("/")] = handler
    return handlers


def _handler(runner: LaneRunner, answer_of: PlainSuccess, answer: PlainAnswer) -> FastHandler:
    authenticator = runner.authenticator

    async def handler(scope: Scope, body: bytes) -> FastAnswer | None:
        connection = Connection(scope)
        if not runner.serves(connection):
            return None
        fields: Fields = NO_FIELDS
        if scope["method"] not in BODILESS_METHODS:
            read = _flat_json_object(connection.headers.get("content-type"), body)
            if read is None:
                return None
            fields = read
        principal = await authenticator.authenticate_for_lane(connection)
        if principal is None:
            return None
        success = answer_of(principal, fields)
        return None if success is None else answer(connection, success)

    return handler


def _flat_json_object(content_type: str | None, body: bytes) -> Mapping[str, object] | None:
    """The body as a JSON object of plain values, or None for anything else: another media
    type (forms included), a charset but UTF-8, or nested values, which the full view's parser
    judges (its depth limits)."""
    if content_type != JSON_MEDIA_TYPE and not _is_plain_json(content_type):
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or any(isinstance(v, dict | list) for v in data.values()):
        return None
    return data


def _is_plain_json(content_type: str | None) -> bool:
    """`application/json`, with at most `charset=utf-8`."""
    if content_type is None:
        return False
    kind, *params = content_type.lower().split(";")
    if kind.strip() != JSON_MEDIA_TYPE:
        return False
    return all(p.replace(" ", "") in ("", "charset=utf-8") for p in params)
