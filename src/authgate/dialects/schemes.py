"""The authentication schemes of the DRF-speaking dialects, as DRF's `authentication_classes`.

Each dialect takes the schemes its setting names (`AUTHGATE_AUTHENTICATION`), tried in order.
A scheme answers None ("not mine": the next one tries), the principal it proved, or raises an
authentication failure, which ends the search, as in DRF. The first scheme's challenge goes in
`WWW-Authenticate`; a first scheme without one (the session) turns the 401 into a 403, again as
DRF does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from starlette.types import Scope

from authgate.core import Core
from authgate.core.models import Principal
from authgate.dialects.jwt_auth import JwtAuthentication
from authgate.dialects.security_schemes import (
    SecurityScheme,
    opaque_token,
    session_cookie,
    simplejwt_access,
)
from authgate.http.connection import first
from authgate.http.credentials import token_reader
from authgate.http.errors import RequestError
from authgate.http.secure_cookies import secure_cookies_in
from authgate.http.session_cookie import CSRF_HEADER, session_cookie_name, session_value_in
from authgate.settings import Scheme as SchemeName

TOKEN: SchemeName = "token"
JWT: SchemeName = "jwt"
SESSION: SchemeName = "session"
DEFAULT: tuple[SchemeName, ...] = (TOKEN,)
# Django's CsrfViewMiddleware checks every method but these (RFC 9110's safe methods).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_NAME = CSRF_HEADER.lower().encode("latin-1")
# What a scheme reads from a request (dialects/authenticator.py passes it on unopened).
C = TypeVar("C")


class Scheme(Protocol[C]):
    """One way of proving who a request is, in two steps: `read`, synchronous, finds the
    scheme's credentials in the request; `prove`, the one await, looks them up. The fast lane
    and the full view both go through dialects/authenticator.py, which runs the two."""

    @property
    def challenge(self) -> str | None:
        """What `WWW-Authenticate` says when this scheme comes first; None: answer 403."""
        ...

    @property
    def security(self) -> SecurityScheme:
        """How the OpenAPI document names and describes this scheme."""
        ...

    # Properties, so that a scheme may give the core's own function (TokenScheme: a coroutine
    # less per answer) as well as a method of its own.
    @property
    def read(self) -> Callable[[Scope], C | None]:
        """This scheme's credentials in the request, None if it does not use this scheme (the
        next one tries); raises an authentication failure for credentials it cannot read."""
        ...

    @property
    def prove(self) -> Callable[[C], Awaitable[Principal | None]]:
        """The principal the credentials prove; None when they prove nobody but are no failure
        either (an ended session: the next scheme tries); raises an authentication failure."""
        ...


class CsrfFailedError(RequestError):
    """A session-authenticated unsafe request without its CSRF token (DRF: 403 "CSRF Failed:
    <Django's reason>", never translated: DRF formats it before gettext could)."""

    code = "csrf_failed"


class TokenScheme:
    """DRF's TokenAuthentication over opaque tokens. Beside the `jwt` scheme it leaves
    credentials with a dot to it: an opaque token is hex, a JWT always has two dots."""

    def __init__(self, core: Core, *, leave_jwts: bool) -> None:
        keywords = frozenset(k.lower() for k in core.settings.token_keywords)
        # The opaque token of the Authorization header (MalformedCredentialsError for one
        # that cannot be read).
        self.read: Callable[[Scope], str | None] = token_reader(keywords, leave_jwts=leave_jwts)
        self.challenge: str | None = core.settings.token_keywords[0]
        self.security = opaque_token(core.settings.token_keywords)

        # The core's lookup itself, not a method around it: a coroutine less per answer.
        # TokenInvalidError or InactiveUserError for a bad token.
        self.prove: Callable[[str], Awaitable[Principal]] = core.tokens.resolve


class JwtScheme:
    """SimpleJWT's JWTAuthentication (dialects/jwt_auth.py): a Principal of the user."""

    def __init__(self, core: Core) -> None:
        jwts = JwtAuthentication(core)
        self.challenge: str | None = jwts.challenge
        self.security = simplejwt_access(core.settings.jwt_auth_header_types)
        # The access token of the header; its user, JwtAuthenticationFailed for a bad one.
        self.read: Callable[[Scope], str | None] = jwts.read
        self.prove: Callable[[str], Awaitable[Principal]] = jwts.prove


@dataclass(frozen=True, slots=True)
class SessionCredentials:
    """What a session-authenticated request of an unsafe method presents: its cookie and the
    CSRF token header (None if absent). A safe method's credentials are the cookie alone, a
    str: no object to build on the path of nearly every session request."""

    cookie: str
    csrf: str | None


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

    def read(self, scope: Scope) -> str | SessionCredentials | None:
        """The session cookie, and for an unsafe method the CSRF token sent with it."""
        raw = session_value_in(scope, secure_cookies_in(scope, self._settings))
        if not raw:
            return None
        if scope["method"] in SAFE_METHODS:
            return raw
        return SessionCredentials(raw, csrf=first(scope["headers"], CSRF_NAME))

    async def prove(self, credentials: str | SessionCredentials) -> Principal | None:
        """The session's principal; CsrfFailedError for an unsafe method without its token."""
        if isinstance(credentials, str):
            # From memory without awaiting resolve (a coroutine less), whenever it can be.
            session = self._sessions.cached(credentials)
            if session is None:
                session = await self._sessions.resolve(credentials)
            return None if session is None else session.principal
        session = await self._sessions.resolve(credentials.cookie)
        if session is None:
            return None
        if not credentials.csrf:
            raise CsrfFailedError(reason="CSRF token missing.")
        if not self._sessions.check_csrf(session, credentials.csrf):
            raise CsrfFailedError(reason="CSRF token incorrect.")
        return session.principal


def schemes_of(core: Core, dialect: str) -> tuple[Scheme[Any], ...]:
    """The schemes the settings give this dialect, in their order."""
    names: Sequence[SchemeName] = core.settings.authentication.get(dialect, DEFAULT)
    built: dict[SchemeName, Scheme[Any]] = {
        TOKEN: TokenScheme(core, leave_jwts=JWT in names),
        JWT: JwtScheme(core),
        SESSION: SessionScheme(core),
    }
    return tuple(built[name] for name in names)
