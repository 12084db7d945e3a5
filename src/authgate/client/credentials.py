"""Reading `Authorization: Token <key>`, `Bearer <opaque>` or `Bearer <JWT>`.

Keywords compare case-blind, as DRF's TokenAuthentication does. What follows `Bearer` is taken
for a JWT when it has a JWT's shape (three base64url segments), else for an opaque token:
authgate's opaque tokens are 40 hex characters and never contain a dot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidToken
from .identity import TokenKind

KEYWORDS = frozenset({"token", "bearer"})
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A token read from a header, and what kind it is."""

    keyword: str
    token: str
    kind: TokenKind


def looks_like_jwt(token: str) -> bool:
    """Whether `token` has a compact JWS's shape (it is not verified here)."""
    return _JWT_SHAPE.match(token) is not None


def parse_authorization(header: str | None) -> Credentials:
    """The credentials in an Authorization header value; InvalidToken when there are none
    (`missing`) or they cannot be read (`malformed`, another scheme included: a guard in front
    of a service accepts only authgate's tokens)."""
    if header is None or not header.strip():
        raise InvalidToken("missing", "no Authorization header")
    parts = header.split()
    keyword = parts[0]
    if keyword.lower() not in KEYWORDS:
        raise InvalidToken("malformed", f"unsupported scheme {keyword!r}")
    if len(parts) != 2:
        raise InvalidToken("malformed", "expected '<keyword> <token>'")
    token = parts[1]
    if _PRINTABLE.match(token) is None:
        raise InvalidToken("malformed", "the token has characters no token has")
    is_jwt = keyword.lower() == "bearer" and looks_like_jwt(token)
    return Credentials(keyword=keyword, token=token, kind="jwt" if is_jwt else "opaque")
