"""The authentication schemes of the DRF-speaking dialects, as DRF's `authentication_classes`.

Each dialect takes the schemes its setting names (`AUTHGATE_AUTHENTICATION`), tried in order.
A scheme answers None ("not mine": the next one tries), the principal it proved, or raises an
authentication failure, which ends the search, as in DRF. The first scheme's challenge goes in
`WWW-Authenticate`; a first scheme without one (the session) turns the 401 into a 403, again as
DRF does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from authgate.core import Core
from authgate.core.models import Principal, SessionPrincipal
from authgate.dialects.jwt_auth import JwtAuthentication
from authgate.dialects.security_schemes import (
    SecurityScheme,
    opaque_token,
    session_cookie,
    simplejwt_access,
)
from authgate.http.connection import Connection
from authgate.http.credentials import read_token
from authgate.http.errors import RequestError
from authgate.http.secure_cookies import secure_cookies
from authgate.http.session_cookie import CSRF_HEADER, session_cookie_name, session_value
from authgate.settings import Scheme as SchemeName

TOKEN: SchemeName = "token"
JWT: SchemeName = "jwt"
SESSION: SchemeName = "session"
DEFAULT: tuple[SchemeName, ...] = (TOKEN,)
# Django's CsrfViewMiddleware checks every method but these (RFC 9110's safe methods).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class Scheme(Protocol):
    """One way of proving who a request is."""

    @property
    def challenge(self) -> str | None:
        """What `WWW-Authenticate` says when this scheme comes first; None: answer 403."""
        ...

    @property
    def security(self) -> SecurityScheme:
        """How the OpenAPI document names and describes this scheme."""
        ...

    async def authenticate(self, connection: Connection) -> Principal | None:
        """The principal this scheme proves, None if the request does not use it; raises an
        authentication failure for credentials of this scheme that prove nobody. The fast
        lane and the full view read the same Connection (dialects/authenticator.py)."""
        ...


class CsrfFailedError(RequestError):
    """A session-authenticated unsafe request without its CSRF token (DRF: 403 "CSRF Failed:
    <Django's reason>", never translated: DRF formats it before gettext could)."""

    code = "csrf_failed"


class TokenScheme:
    """DRF's TokenAuthentication over opaque tokens. Beside the `jwt` scheme it leaves
    credentials with a dot to it: an opaque token is hex, a JWT always has two dots."""

    def __init__(self, core: Core, *, leave_jwts: bool) -> None:
        self._tokens = core.tokens
        self._keywords = frozenset(k.lower() for k in core.settings.token_keywords)
        self._leave_jwts = leave_jwts
        self.challenge: str | None = core.settings.token_keywords[0]
        self.security = opaque_token(core.settings.token_keywords)

    async def authenticate(self, connection: Connection) -> Principal | None:
        """The token's principal; TokenInvalidError or InactiveUserError for a bad one."""
        raw = read_token(connection, self._keywords)
        if raw is None or (self._leave_jwts and "." in raw):
            return None
        return await self._tokens.resolve(raw)


class JwtScheme:
    """SimpleJWT's JWTAuthentication (dialects/jwt_auth.py): a Principal of the user."""

    def __init__(self, core: Core) -> None:
        self._jwts = JwtAuthentication(core)
        self.challenge: str | None = self._jwts.challenge
        self.security = simplejwt_access(core.settings.jwt_auth_header_types)

    async def authenticate(self, connection: Connection) -> Principal | None:
        """The access token's user; JwtAuthenticationFailed for a bad one."""
        user = await self._jwts.authenticate(connection)
        return None if user is None else Principal(user)


class SessionScheme:
    """DRF's SessionAuthentication over the browser session (core/sessions.py): no session is
    "not mine"; a session on an unsafe method must bring its CSRF token."""

    challenge: str | None = None

    def __init__(self, core: Core) -> None:
        self._sessions = core.sessions
        self._settings = core.settings
        # The document names the cookie as the settings set it (a direct local request in dev
        # gets it without the prefix: http/secure_cookies.py).
        self.security = session_cookie(
            session_cookie_name(core.settings.cookie_secure), CSRF_HEADER
        )

    async def authenticate(self, connection: Connection) -> Principal | None:
        """The session's principal; CsrfFailedError for an unsafe method without its token."""
        raw = session_value(connection, secure_cookies(connection, self._settings))
        session = await self._sessions.resolve(raw) if raw else None
        if session is None:
            return None
        if connection.scope["method"] not in SAFE_METHODS:
            presented = connection.headers.get(CSRF_HEADER)
            if not presented:
                raise CsrfFailedError(reason="CSRF token missing.")
            if not self._sessions.check_csrf(session, presented):
                raise CsrfFailedError(reason="CSRF token incorrect.")
        return SessionPrincipal(session.user, session.record.digest)


def schemes_of(core: Core, dialect: str) -> tuple[Scheme, ...]:
    """The schemes the settings give this dialect, in their order."""
    names: Sequence[SchemeName] = core.settings.authentication.get(dialect, DEFAULT)
    built: dict[SchemeName, Scheme] = {
        TOKEN: TokenScheme(core, leave_jwts=JWT in names),
        JWT: JwtScheme(core),
        SESSION: SessionScheme(core),
    }
    return tuple(built[name] for name in names)
