"""The /u/api/ handlers (cookie JWT API) over core.users and a Jwts of the dialect's own, and its
table of failures, answered `{"detail": ...}` (rendered by dialects/errors.py).

Refresh tokens here are always single-use, whatever the SimpleJWT settings say: the dialect's
Jwts shares the key, lifetimes and store of core.jwts but always rotates and blacklists, so a
reused refresh token ends its login (core/jwt.py; within the reuse interval, a race between
tabs, it answers the same successor instead).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from authgate.constants import EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH
from authgate.core import Core
from authgate.core.errors import (
    InvalidCredentialsError,
    JwtError,
    JwtReusedError,
    JwtSessionEndedError,
    PermissionDeniedError,
)
from authgate.core.jwt import ACCESS, REFRESH
from authgate.core.models import Principal, User
from authgate.core.roles import ADMIN, require_role
from authgate.dialects.authenticator import Authenticator
from authgate.dialects.cookie_jwt.cookies import Cookies
from authgate.dialects.cookie_jwt.messages import message
from authgate.dialects.cookie_jwt.scheme import (
    CHALLENGE,
    BearerAccessToken,
    CookieAccessToken,
    bearer,
    not_authenticated,
)
from authgate.dialects.endpoints import NO_FIELDS, Endpoint, Fields
from authgate.dialects.errors import (
    COMMON_ERRORS,
    Answer,
    DialectError,
    ErrorRenderer,
    ErrorTable,
    Failure,
)
from authgate.dialects.lane import PlainAnswer, Serves
from authgate.http.fast_lane import FastAnswer
from authgate.http.i18n import negotiate
from authgate.http.parsing import read_body
from authgate.http.same_site import SameSite

VARY = "Accept-Language"
NO_STORE = {"Cache-Control": "no-store"}
# Failures whose answer also names its code: what ended a login, for the client to tell.
STATED_CODES = frozenset({"token_reused", "session_ended"})


AUDIENCE = "authgate:u-api"
# The claim naming a login's session: both tokens carry it, refreshes keep it; it binds the
# CSRF token to the session (dialects/cookie_jwt/cookies.py).
SESSION = "sid"
SECURE_TEST = {"message": "Successful secure test"}
# Longest email and password read at login: refused (400) before the core looks anything up.
LOGIN_LIMITS = {"email": EMAIL_MAX_LENGTH, "password": PASSWORD_MAX_LENGTH}
# The refresh token read from a body: storable text, of no length but the body's limit.
REFRESH_LIMITS: dict[str, int | None] = {"refresh_token": None}
# The failures that reach the renderer: those every dialect answers alike (the handlers turn
# the core's token and login failures into DialectErrors); any other is a logged 500.
COOKIE_JWT_ERROR_TABLE: ErrorTable = COMMON_ERRORS
# What refresh/ answers for the core's failures of a refresh token (a 400, as a bad body).
REFRESH_ERRORS: ErrorTable = {
    JwtReusedError: Answer(400, "token_reused"),
    JwtSessionEndedError: Answer(400, "session_ended"),
    JwtError: Answer(400, "refresh_invalid"),
    InvalidCredentialsError: Answer(400, "refresh_invalid"),
}
# The statuses of the failures its handlers decide (DialectError): a bad or missing refresh
# token (400), no or a bad access token, wrong credentials (401), a refusal (403).
DECIDED_STATUSES = frozenset({400, 401, 403})


class CookieJwtViews:
    """The handlers of the /u/api/ dialect."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._jwts = core.jwts.with_config(
            # Its own audience: /auth/jwt/ (no or another audience) refuses these tokens, so a
            # /u/api/ refresh token cannot be replayed there unspent, and this dialect refuses
            # SimpleJWT's tokens (a superuser's, say) in turn.
            replace(
                core.jwts.config,
                rotate_refresh_tokens=True,
                blacklist_after_rotation=True,
                audience=AUDIENCE,
            ),
        )
        config = self._jwts.config
        self._cookies = Cookies(core.settings, config.access_lifetime, config.refresh_lifetime)
        self._same_site = SameSite.from_settings(core.settings)
        self._default_language = core.settings.default_language
        self._roles = core.settings.roles
        self._errors = ErrorRenderer(
            COOKIE_JWT_ERROR_TABLE, _error_shape, challenge=CHALLENGE, dialect="/u/api/"
        )
        self.authenticator = Authenticator(
            (BearerAccessToken(self._jwts), CookieAccessToken(self._jwts, self._cookies)),
            not_authenticated,
        )
        # What secure_test/ and test_role/ take, either one, for the OpenAPI document.
        self.security = tuple(s.security for s in self.authenticator.schemes)

    # answers

    def language(self, connection: HTTPConnection) -> str:
        """The language of the answer's messages."""
        return negotiate(connection.headers.get("accept-language"), self._default_language)

    def error_response(self, request: Request, error: Exception) -> Response:
        """The `{"detail"}` answer for a failure; an unknown one is a logged 500."""
        return self._errors.render(error, self.language(request))

    def _tokens(
        self,
        request: Request,
        body: Mapping[str, object],
        access: str,
        refresh: str,
        session: str | None,
    ) -> Response:
        """The answer `body` with both tokens set as cookies, of the login `session`."""
        response = JSONResponse(body, headers=NO_STORE)
        self._cookies.set_tokens(request, response, access, refresh, session or "")
        return response

    def _require_same_site(self, request: Request) -> None:
        """Refuse a browser's cross-site request to an endpoint that sets session cookies
        (http/same_site.py: login CSRF), saying where it came from."""
        refused = self._same_site.refusal(request)
        if refused is None:
            return
        if refused.origin is not None:
            raise DialectError(403, "cross_site_origin", {"origin": refused.origin})
        raise DialectError(403, "cross_site_fetch", {"fetch_site": refused.fetch_site})

    def _require_csrf(self, request: Request, claims: Mapping[str, object] | None) -> None:
        """A cookie-authenticated write must send the CSRF token of the cookie token's session
        (dialects/cookie_jwt/cookies.py); `claims` are that token's, None when it is not valid."""
        if not self._cookies.csrf_ok(request, _session(claims) if claims else None):
            raise DialectError(403, "csrf_failed")

    async def _user(self, request: Request) -> User:
        """The user of the request's access token (Bearer header, else the access cookie)."""
        return (await self.authenticator.authenticate(request)).user

    # handlers

    async def login(self, request: Request, _: Principal | None) -> Response:
        """POST login/ {email, password}: both tokens and the role; never for a superuser."""
        self._require_same_site(request)
        body = await read_body(request, limits=LOGIN_LIMITS)
        fields = body if isinstance(body, dict) else {}
        email, password = fields.get("email"), fields.get("password")
        try:
            # A missing field still pays for one password check (core.logins), like a wrong one.
            user = await self.core.logins.authenticate(
                login=email if isinstance(email, str) else None,
                password=password if isinstance(password, str) else None,
                login_field="email",
            )
            if user.is_superuser:
                raise DialectError(403, "superuser_login")
            session = uuid.uuid4().hex
            refresh, access = await self._jwts.issue_pair(user, {SESSION: session})
        except InvalidCredentialsError as error:
            raise DialectError(401, "invalid_credentials") from error
        answer = {"access_token": access, "refresh_token": refresh, "role": user.role}
        return self._tokens(request, answer, access, refresh, session)

    async def refresh(self, request: Request, _: Principal | None) -> Response:
        """POST refresh/: both tokens, rotated; the used refresh token is spent."""
        self._require_same_site(request)
        body = await read_body(request, limits=REFRESH_LIMITS)
        given = body.get("refresh_token") if isinstance(body, dict) else None
        raw = given if isinstance(given, str) and given else None
        if raw is None:
            try:
                raw = bearer(request.scope)
            except DialectError as error:
                raise DialectError(400, "refresh_invalid") from error
        if not raw and (cookie := self._cookies.refresh(request)) is not None:
            raw = cookie
            try:
                claims = self._jwts.decode(raw, REFRESH)
            except JwtError as error:
                raise DialectError(400, "refresh_invalid") from error
            self._require_csrf(request, claims)
        if not raw:
            raise DialectError(400, "refresh_missing")
        try:
            # A superuser's token is refused unspent (as their login is); a replayed one is
            # handled as a reuse (which ends its login), a superuser's included.
            refreshed = await self._jwts.refresh(raw, refuse_superuser=True)
        except (JwtError, InvalidCredentialsError) as error:
            raise DialectError.of(REFRESH_ERRORS, error) from error
        except PermissionDeniedError as error:
            raise DialectError(403, "superuser_refresh") from error
        if refreshed.refresh is None:  # cannot happen: this Jwts always rotates
            raise DialectError(500, "server_error")
        answer = {
            "detail": "New tokens have been sent",
            "access_token": refreshed.access,
            "refresh_token": refreshed.refresh,
        }
        session = _session(refreshed.claims)
        return self._tokens(request, answer, refreshed.access, refreshed.refresh, session)

    async def logout(self, request: Request, _: Principal | None) -> Response:
        """POST logout/: clear the cookies and, for an authentic access token (expired too:
        the refresh token, which the browser sends only to refresh/, must die with it), end
        every JWT of its user. Authenticated by the access cookie, it needs the CSRF header."""
        raw = _bearer_or_none(request)
        if raw is None and (cookie := self._cookies.access(request)) is not None:
            raw = cookie
            try:
                claims: Mapping[str, object] | None = self._jwts.decode(
                    raw, ACCESS, allow_expired=True
                )
            except JwtError:
                claims = None  # forged or foreign: only the cookies go, on the double submit
            self._require_csrf(request, claims)
        if raw:
            await self._jwts.log_out_by(raw)  # a dead token: nothing to end, cookies go anyway
        response = JSONResponse({"detail": "Logged out"}, headers=NO_STORE)
        self._cookies.clear(request, response)
        return response

    async def public_test(self, request: Request, _: Principal | None) -> Response:
        """GET test/: open to anyone."""
        return JSONResponse({"message": "Successful test"})

    async def secure_test(self, request: Request, _: Principal | None) -> Response:
        """GET secure_test/: any valid access token."""
        return JSONResponse(self.secure_test_answer(await self.authenticator.authenticate(request)))

    @staticmethod
    def secure_test_answer(_: Principal, __: Fields = NO_FIELDS) -> dict[str, str]:
        """secure_test/'s body: the same for every user, so the fast lane serves it too."""
        return SECURE_TEST

    # the fast lane (dialects/lane.py)

    # Any request may get the lane's success: the dialect negotiates no media type.
    serves: Serves | None = None

    def plain_answer(self, _: Endpoint) -> PlainAnswer:
        """The lane's rendering of a success: JSONResponse's bytes, no header of its own."""

        def answer(_: str | None, success: object) -> FastAnswer:
            return 200, [], orjson.dumps(success)

        return answer

    async def role_test(self, request: Request, _: Principal | None) -> Response:
        """GET test_role/: an access token of a user whose role is ADMIN."""
        user = await self._user(request)
        try:
            require_role(user, ADMIN, self._roles)
        except PermissionDeniedError as error:
            raise DialectError(403, "permission_denied") from error
        text = f"Hello, {user.first_name}! Your role: {user.role} This was a test."
        return JSONResponse({"message": text})


def _error_shape(failure: Failure, language: str) -> Response:
    """FastAPI's `{"detail": ...}`, naming the code too where it says what ended a login."""
    headers = {"Vary": VARY, "Content-Language": language, **failure.headers}
    body = {"detail": message(failure.code, language, failure.params)}
    if failure.code in STATED_CODES:
        body["code"] = failure.code
    return JSONResponse(body, status_code=failure.status, headers=headers)


def _bearer_or_none(request: Request) -> str | None:
    """logout/'s reading of the header: a malformed one counts as none (logout never fails
    for want of a good token)."""
    try:
        return bearer(request.scope)
    except DialectError:
        return None


def _session(claims: Mapping[str, object]) -> str | None:
    """The session a token belongs to (None for a token without one)."""
    session = claims.get(SESSION)
    return session if isinstance(session, str) and session else None
