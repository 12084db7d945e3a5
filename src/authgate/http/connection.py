"""The request as authentication reads it (dialects/schemes.py), on the fast lane and in the
full view alike: a Starlette HTTPConnection over the request's scope, whose headers are also
given as the raw bytes the credentials are read from. Read-only: nothing here changes the
request. The lane, which answers in a few microseconds, makes one per request; the full view
makes one of its Request."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import Scope

# Header names as asked for ("Accept-Language") -> as the scope has them (b"accept-language"):
# a few constants of the code, encoded once.
_NAMES: dict[str, bytes] = {}


def _name(key: str) -> bytes:
    name = _NAMES.get(key)
    if name is None:
        name = key.lower().encode("latin-1")
        if len(_NAMES) < 256:  # only ever the code's own names, but bounded all the same
            _NAMES[key] = name
    return name


class RequestHeaders(Headers):
    """Starlette's read-only Headers over the scope's list, read without building anything:
    a request has a few headers, and the lane reads three or four of them once each."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        # Headers(raw=raw) does only this, and the lane's microseconds count.
        self._list = raw

    def raw_joined(self, name: bytes) -> bytes | None:
        """Every value of the header `name` (lowercase) as sent, joined with ", " (one loop,
        no list: a header is almost always sent once), None without it."""
        found = None
        for key, value in self._list:
            if key == name:
                found = value if found is None else found + b", " + value
        return found

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The header's first value, or `default` (without raising KeyError inside, as a
        Mapping's get does)."""
        name = _NAMES.get(key) or _name(key)
        for found, value in self._list:
            if found == name:
                return value.decode("latin-1")
        return default


class Connection(HTTPConnection):
    """An HTTPConnection over the scope, with RequestHeaders."""

    # An attribute, set in __init__, in place of HTTPConnection's property (a class attribute
    # hides it): the lane reads it three times an answer.
    headers: RequestHeaders = None  # type: ignore[assignment]

    def __init__(self, scope: Scope) -> None:
        # HTTPConnection(scope) does only this (and asserts the type: an authenticated one is
        # "http"); its headers are made here.
        self.scope = scope
        self.headers = RequestHeaders(scope["headers"])

    @classmethod
    def of(cls, connection: HTTPConnection) -> Connection:
        """The connection itself if it is one, else one over its scope (a view's Request)."""
        return connection if isinstance(connection, Connection) else cls(connection.scope)
