"""How /u/api/ authenticates (dialects/authenticator.py): the access token of
`Authorization: Bearer`, else of the access cookie, checked by the dialect's own Jwts (its
audience). A header that is not a Bearer one is a 401, as FastAPI's HTTPBearer answers."""

from __future__ import annotations

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
from authgate.http.connection import Connection
from authgate.http.credentials import authorization

CHALLENGE = "Bearer"


def bearer(connection: Connection) -> str | None:
    """The token of `Authorization: Bearer <token>` (keyword case-blind, as FastAPI's
    HTTPBearer); None without the header; a 401 for any other header."""
    header = authorization(connection)
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

    async def _principal(self, raw: str) -> Principal:
        try:
            return Principal(await self._jwts.authenticate(raw))
        except (JwtError, JwtUserError) as error:
            raise DialectError(401, "token_invalid") from error


class BearerAccessToken(_AccessToken):
    """The access token as `Authorization: Bearer`."""

    security: SecurityScheme = COOKIE_JWT_ACCESS

    async def authenticate(self, connection: Connection) -> Principal | None:
        """The token's user; a 401 for a header that is not a valid token's."""
        raw = bearer(connection)
        return None if raw is None else await self._principal(raw)


class CookieAccessToken(_AccessToken):
    """The access token as the cookie /u/api/login/ sets."""

    def __init__(self, jwts: Jwts, cookies: Cookies) -> None:
        super().__init__(jwts)
        self._cookies = cookies
        names = cookies.documented_names
        self.security = cookie_jwt_access_cookie(
            names.cookie_jwt_access, names.cookie_jwt_csrf, CSRF_HEADER
        )

    async def authenticate(self, connection: Connection) -> Principal | None:
        """The cookie's user; a 401 for a cookie that is not a valid token."""
        raw = self._cookies.access(connection)
        return await self._principal(raw) if raw else None
