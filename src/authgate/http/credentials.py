"""Reading `Authorization: <keyword> <token>` the way DRF's TokenAuthentication does.

Returns the token, None when the header is absent or of another scheme ("not mine"), or raises
MalformedCredentialsError for a header of ours that cannot be read. The fast lane and the full
view read it alike, from the request's scope (http/connection.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from starlette.types import Scope

from authgate.http.errors import MalformedCredentialsError


def authorization(scope: Scope) -> bytes | None:
    """The Authorization header, as sent; sent more than once, its copies joined with ", " as
    a WSGI server joins them for Django, so that two tokens never pass for one (the first copy
    alone would let a proxy's or a client's extra header decide who is asking). One loop over
    the scope's headers, no list: the header is almost always sent once."""
    found = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            found = value if found is None else found + b", " + value
    return found


def token_reader(keywords: Collection[str], *, leave_jwts: bool) -> Callable[[Scope], str | None]:
    """The reading of the opaque token of the request's Authorization header; `keywords`
    (lowercase) compare case-blind; `leave_jwts`: a token with a dot is a JWT, not ours (an
    opaque token is hex, a JWT always has two dots). A function made once, so that reading
    costs one call per request."""

    def read_token(scope: Scope) -> str | None:
        header = authorization(scope)
        if not header:
            return None
        # The raw bytes, which DRF splits and decodes.
        parts = header.split()
        if not parts or parts[0].decode("latin-1").lower() not in keywords:
            return None
        if len(parts) == 1:
            raise MalformedCredentialsError("token_header_empty")
        if len(parts) > 2:
            raise MalformedCredentialsError("token_header_spaces")
        try:
            raw = parts[1].decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedCredentialsError("token_header_invalid_characters") from error
        return None if leave_jwts and "." in raw else raw

    return read_token
