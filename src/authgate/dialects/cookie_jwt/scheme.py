"""How /u/api/ authenticates (dialects/authenticator.py): the access token of
`Authorization: Bearer`, else of the access cookie, checked by the dialect's own Jwts (its
audience). A header that is not a Bearer one is a 401, as FastAPI's HTTPBearer answers."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import HTTPConnection
from starlette.types import Scope

from authgate.core.errors import JwtError, JwtUserError
from authgate.core.jwt import Jwts
from authgate.core.models import Principal
from authgate.dialects.cookie_jwt.cookies import CSRF_HEADER, Cookies
from authgate.dialects.errors import DialectError
from authgate.dialects.security_schemes import (
    COOKIE_JWT_ACCESS,
    SecurityScheme,
    cookie_jwt_access_cookie,
)
from authgate.http.credentials import authorization

CHALLENGE = "Bearer"


def bearer(scope: Scope) -> str | None:
    """The token of `Authorization: Bearer <token>` (keyword case-blind, as FastAPI's
    HTTPBearer); None without the header; a 401 for any other header."""
    header = authorization(scope)
    if header is None:
        return None
    parts = header.decode("latin-1").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise DialectError(401, "token_invalid")
    return parts[1]


def not_authenticated() -> DialectError:
    """/u/api/'s answer to a request without an access token."""
    return DialectError(401, "not_authenticated")


class _AccessToken:
    """An access token of the dialect's Jwts, read by the subclass."""

    challenge: str | None = CHALLENGE

    def __init__(self, jwts: Jwts) -> None:
        self._jwts = jwts

    async def prove(self, raw: str) -> Principal:
        """The token's user; a 401 for a token that proves nobody."""
        try:
            return await self._jwts.authenticate(raw)
        except (JwtError, JwtUserError) as error:
            raise DialectError(401, "token_invalid") from error


class BearerAccessToken(_AccessToken):
    """The access token as `Authorization: Bearer`."""

    security: SecurityScheme = COOKIE_JWT_ACCESS

    def __init__(self, jwts: Jwts) -> None:
        super().__init__(jwts)
        # The header's token; a 401 for a header that is not a Bearer one. The function
        # itself, not a method around it: a call less per answer.
        self.read: Callable[[Scope], str | None] = bearer


class CookieAccessToken(_AccessToken):
    """The access token as the cookie /u/api/login/ sets."""

    def __init__(self, jwts: Jwts, cookies: Cookies) -> None:
        super().__init__(jwts)
        self._cookies = cookies
        names = cookies.documented_names
        self.security = cookie_jwt_access_cookie(
            names.cookie_jwt_access, names.cookie_jwt_csrf, CSRF_HEADER
        )

    def read(self, scope: Scope) -> str | None:
        """The cookie's token (an empty cookie is none)."""
        # An HTTPConnection for its cookies: only a request that gets this far pays for it.
        return self._cookies.access(HTTPConnection(scope)) or None
