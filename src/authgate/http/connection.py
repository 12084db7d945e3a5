"""The request's headers as authentication and the fast lane read them: straight from the ASGI
scope's raw list, building nothing. The lane answers in a few microseconds, so a Starlette
HTTPConnection and its Headers per request would be a visible share of its cost; the full view
reads the same scope (its Request's), so both paths read the very same bytes alike. Only a
scheme that needs more (cookies) makes an HTTPConnection, and only when it gets that far."""

from __future__ import annotations

from collections.abc import Iterable


def joined(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """Every value of the header `name` (lowercase) as sent, joined with ", " (one loop, no
    list: a header is almost always sent once), None without it."""
    found = None
    for key, value in headers:
        if key == name:
            found = value if found is None else found + b", " + value
    return found


def first(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The header's first value, decoded as Starlette's Headers.get decodes it (latin-1), or
    None without it."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None
