"""Reading `Authorization: <keyword> <token>` the way DRF's TokenAuthentication does.

Returns the token, None when the header is absent or of another scheme ("not mine"), or raises
MalformedCredentialsError for a header of ours that cannot be read. The fast lane and the full
view read it alike, from the request's Connection (http/connection.py).
"""

from __future__ import annotations

from collections.abc import Collection

from authgate.http.connection import Connection
from authgate.http.errors import MalformedCredentialsError


def authorization(connection: Connection) -> bytes | None:
    """The Authorization header, as sent; sent more than once, its copies joined with ", " as
    a WSGI server joins them for Django, so that two tokens never pass for one (the first copy
    alone would let a proxy's or a client's extra header decide who is asking)."""
    return connection.headers.raw_joined(b"authorization")


def read_token(connection: Connection, keywords: Collection[str]) -> str | None:
    """The opaque token of the request's Authorization header; keywords compare case-blind."""
    header = connection.headers.raw_joined(b"authorization")  # authorization(), inline
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
        return parts[1].decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedCredentialsError("token_header_invalid_characters") from error
