"""Reading `Authorization: <keyword> <token>` the way DRF's TokenAuthentication does.

Returns the token, None when the header is absent or of another scheme ("not mine"), or raises
MalformedCredentialsError for a header of ours that cannot be read.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request

from authgate.http.errors import MalformedCredentialsError


def authorization(request: Request) -> str | None:
    """The Authorization header; sent more than once, its copies joined with ", " as a WSGI
    server joins them for Django, so that two tokens never pass for one (the first copy
    alone would let a proxy's or a client's extra header decide who is asking)."""
    values = request.headers.getlist("authorization")
    return ", ".join(values) if values else None


def read_token(request: Request, keywords: Collection[str]) -> str | None:
    """The opaque token of the request's Authorization header; keywords compare case-blind."""
    header = authorization(request)
    # Starlette decodes headers as latin-1; the raw bytes are what DRF splits and decodes.
    return parse_token(header.encode("latin-1") if header else None, keywords)


def parse_token(header: bytes | None, keywords: Collection[str]) -> str | None:
    """The token in a raw Authorization header value (see read_token)."""
    if not header:
        return None
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
