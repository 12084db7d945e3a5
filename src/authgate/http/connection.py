"""A request header as authentication reads it: straight from the ASGI scope's raw list,
building nothing (http/credentials.py reads the Authorization header so too). The fast lane
answers in a few microseconds, so a Starlette HTTPConnection and its Headers per request
would be a visible share of its cost; the full view reads the same scope (its Request's), so
both paths read the very same bytes alike. Only a scheme that needs more (cookies) makes an
HTTPConnection, and only when it gets that far."""

from __future__ import annotations

from collections.abc import Iterable


def first(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The header's first value, decoded as Starlette's Headers.get decodes it (latin-1), or
    None without it."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None
