"""The request as authentication reads it (dialects/schemes.py), on the fast lane and in the
full view alike: a Starlette HTTPConnection over the request's scope whose headers are indexed
in one pass over the scope's list, and also given as the raw bytes the credentials are read
from. Read-only: nothing here changes the request. The lane, which answers in a few
microseconds, builds one per request; the full view makes one of its Request."""

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
    """Starlette's read-only Headers, indexed by name: the first value of each (a header sent
    more than once has its every value read from the list)."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        # Headers(raw=raw) does only this, and the lane's microseconds count.
        self._list = raw
        # Built in C: the later pairs of the reversed list, the first ones, win.
        self._first = dict(reversed(raw))
        self._repeats = len(self._first) != len(raw)

    def raw_value(self, name: bytes) -> bytes | None:
        """The value of the header `name` (lowercase) as sent, None without it or when it
        was sent more than once (see raw_values)."""
        if self._repeats and self._repeated(name):
            return None
        return self._first.get(name)

    def _repeated(self, name: bytes) -> bool:
        return sum(1 for key, _ in self._list if key == name) > 1

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The header's first value, or `default`."""
        value = self._first.get(_name(key))
        return default if value is None else value.decode("latin-1")

    def __getitem__(self, key: str) -> str:
        """The header's first value; KeyError without it."""
        value = self._first.get(_name(key))
        if value is None:
            raise KeyError(key)
        return value.decode("latin-1")

    def __contains__(self, key: object) -> bool:
        """Whether the request has this header."""
        return isinstance(key, str) and _name(key) in self._first

    def raw_values(self, name: bytes) -> list[bytes]:
        """Every value of the header `name` (lowercase), as sent."""
        if self._repeats and self._repeated(name):
            return [value for key, value in self._list if key == name]
        value = self._first.get(name)
        return [] if value is None else [value]

    def getlist(self, key: str) -> list[str]:
        """Every value of the header, in order."""
        name = _name(key)
        if self._repeats and self._repeated(name):
            return super().getlist(key)
        value = self._first.get(name)
        return [] if value is None else [value.decode("latin-1")]


class Connection(HTTPConnection):
    """An HTTPConnection over the scope, its headers indexed once."""

    def __init__(self, scope: Scope) -> None:
        # HTTPConnection(scope) does only this (and asserts the type: an authenticated one is
        # "http"); its headers are made here, once.
        self.scope = scope
        self._indexed = RequestHeaders(scope["headers"])

    @classmethod
    def of(cls, connection: HTTPConnection) -> Connection:
        """The connection itself if it is one, else one over its scope (a view's Request)."""
        return connection if isinstance(connection, Connection) else cls(connection.scope)

    @property
    def headers(self) -> RequestHeaders:
        """The request's headers."""
        return self._indexed
