"""The envelope dialect's handlers over the core, and its table of failures (rendered by
dialects/errors.py): every answer, success or error, is
`{"result": {"status": <status>, "message": <text>}, "data": {...}}`."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from authgate.constants import EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH
from authgate.core import Core
from authgate.core.errors import (
    AuthgateError,
    InactiveUserError,
    InvalidCredentialsError,
    TokenInvalidError,
)
from authgate.core.identity import username_key
from authgate.core.models import Principal, TokenPrincipal, User
from authgate.dialects.authenticator import Authenticator
from authgate.dialects.endpoints import Endpoint, Fields
from authgate.dialects.envelope.messages import message
from authgate.dialects.errors import (
    COMMON_ERRORS,
    Answer,
    DialectError,
    ErrorRenderer,
    ErrorTable,
    Failure,
)
from authgate.dialects.lane import PlainAnswer, Serves
from authgate.dialects.schemes import TokenScheme
from authgate.http.errors import (
    MalformedCredentialsError,
    NotAuthenticatedError,
    RequestError,
)
from authgate.http.fast_lane import FastAnswer
from authgate.http.i18n import negotiate
from authgate.http.parsing import read_body

# Every answer depends on the language asked for; caches must key on it.
VARY = "Accept-Language"
JSON_MEDIA_TYPE = "application/json"
VARY_BYTES = VARY.encode()
# The lane's answers keep the rendering of this many Accept-Language headers per message.
KEPT_LANGUAGE_HEADERS = 64
# Longest login names and passwords read: refused (400) before the core looks anything up.
LOGIN_FIELD_LIMITS = {"username": USERNAME_MAX_LENGTH, "email": EMAIL_MAX_LENGTH}
CHECK_TOKEN_LIMITS = {"username": USERNAME_MAX_LENGTH}
# The failures of the core and of reading a request; any other is a logged 500.
ENVELOPE_ERROR_TABLE: ErrorTable = {
    **COMMON_ERRORS,
    NotAuthenticatedError: Answer(401, "not_authenticated"),
    MalformedCredentialsError: Answer(401, "token_invalid"),
    TokenInvalidError: Answer(401, "token_invalid"),
    InactiveUserError: Answer(401, "user_inactive"),
    InvalidCredentialsError: Answer(401, "invalid_credentials"),
}
# The statuses of the failures its handlers decide (DialectError): a missing field (400), a
# username that is not the token's (403).
DECIDED_STATUSES = frozenset({400, 403})


Success = tuple[str, Mapping[str, object]]
"""A plain success: its message code and data (a plain tuple: the lane makes one per answer)."""


def role_of(user: User) -> str:
    """The envelope API's role: `superuser`, else `staff`, else `no_role`."""
    if user.is_superuser:
        return "superuser"
    return "staff" if user.is_staff else "no_role"


def _filled(value: object) -> bool:
    """Whether a body field holds text (a form's file upload or a JSON number does not)."""
    return isinstance(value, str) and value != ""


class EnvelopeViews:
    """The handlers of the envelope dialect, and its answers.

    Handlers take DRF's (request, principal) signature so the endpoint table and the OpenAPI
    document are shared with the DRF dialects, but the dispatcher passes no principal: each
    handler authenticates itself, since logout's token is optional and check_token reads it
    before the body.
    """

    def __init__(self, core: Core) -> None:
        self.core = core
        settings = core.settings
        # Opaque tokens, as DRF's TokenAuthentication reads them (dialects/schemes.py).
        self._tokens = TokenScheme(core, leave_jwts=False)
        self.authenticator = Authenticator((self._tokens,))
        # The envelope API speaks of Bearer tokens: challenge with it when it is accepted.
        keywords = {k.lower() for k in settings.token_keywords}
        challenge = "Bearer" if "bearer" in keywords else settings.token_keywords[0]
        self._errors = ErrorRenderer(
            ENVELOPE_ERROR_TABLE, self._error_shape, challenge=challenge, dialect="envelope"
        )
        # What check_token (and logout, when given one) reads, for the OpenAPI document.
        self.security = (self._tokens.security,)
        self._default_language = settings.default_language
        self._login_field = settings.login_field
        self._login_limits = {
            settings.login_field: LOGIN_FIELD_LIMITS[settings.login_field],
            "password": PASSWORD_MAX_LENGTH,
        }

    # answers

    def language(self, connection: HTTPConnection) -> str:
        """The language of the answer to this request."""
        return negotiate(connection.headers.get("accept-language"), self._default_language)

    @staticmethod
    def render(
        status: int,
        code: str,
        language: str,
        data: Mapping[str, object],
        params: Mapping[str, object] | None = None,
    ) -> bytes:
        """An envelope's bytes (compact UTF-8 JSON, as the DRF dialects render)."""
        result = {"status": status, "message": message(code, language, params)}
        return orjson.dumps({"result": result, "data": data})

    def answer(
        self,
        request: Request,
        status: int,
        code: str,
        data: Mapping[str, object] | None = None,
        *,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The envelope answer; every one carries its language and varies on it."""
        language = self.language(request)
        body = self.render(status, code, language, data or {}, params)
        extra = {**(headers or {}), "Vary": VARY, "Content-Language": language}
        return Response(body, status_code=status, media_type=JSON_MEDIA_TYPE, headers=extra)

    def error_response(self, request: Request, error: Exception) -> Response:
        """The envelope answer for a failure; an unknown one is a 500 (logged, not shown)."""
        return self._errors.render(error, self.language(request))

    def _error_shape(self, failure: Failure, language: str) -> Response:
        """A failure's envelope: its status and message, empty data."""
        body = self.render(failure.status, failure.code, language, {}, failure.params)
        headers = {**failure.headers, "Vary": VARY, "Content-Language": language}
        return Response(
            body, status_code=failure.status, media_type=JSON_MEDIA_TYPE, headers=headers
        )

    # handlers

    async def login(self, request: Request, _: Principal | None) -> Response:
        """POST login/: a new opaque token, the user's name and role."""
        body = await read_body(request, limits=self._login_limits)
        fields = body if isinstance(body, dict) else {}
        login, password = fields.get(self._login_field), fields.get("password")
        if not _filled(login) or not _filled(password):
            raise DialectError(400, "login_missing")
        user = await self.core.logins.authenticate(login=str(login), password=str(password))
        token = await self.core.tokens.issue(user)
        data = {"token": token, "username": user.username, "role": role_of(user)}
        return self.answer(request, 200, "login_success", data)

    async def logout(self, request: Request, _: Principal | None) -> Response:
        """POST logout/: revoke the presented token if it is valid; always 200 (as specified)."""
        try:
            principal = await self.authenticator.authenticate(request)
            if isinstance(principal, TokenPrincipal):
                await self.core.tokens.revoke(principal)
        except (AuthgateError, RequestError):
            pass  # no, odd or dead token: nothing to revoke, and logout still succeeds
        return self.answer(request, 200, "logout_success")

    async def check_token(self, request: Request, _: Principal | None) -> Response:
        """POST check_token/ {username}: does the presented token belong to `username`?
        The token is checked first: a caller without one learns nothing of the body's rules."""
        principal = await self.authenticator.authenticate(request)
        body = await read_body(request, limits=CHECK_TOKEN_LIMITS)
        fields = body if isinstance(body, dict) else {}
        if not _filled(fields.get("username")):
            raise DialectError(400, "username_missing")
        success = self.token_check(principal, fields)
        if success is None:
            raise DialectError(403, "username_mismatch")
        code, data = success
        return self.answer(request, 200, code, data)

    @staticmethod
    def token_check(principal: Principal, fields: Fields) -> Success | None:
        """check_token's success: the body names the token's user; None otherwise."""
        username, own = fields.get("username"), principal.user.username
        if not isinstance(username, str) or not username:  # not _filled(): a call less
            return None
        # The same spelling needs no normalising (the usual case: a service echoes it back).
        if username != own and username_key(str(username)) != username_key(own):
            return None
        return "token_valid", {"username": own}

    # the fast lane (dialects/lane.py)

    # Any request may get the lane's success: the envelope negotiates no media type.
    serves: Serves | None = None

    def plain_answer(self, _: Endpoint) -> PlainAnswer:
        """The lane's rendering of a success: what `answer` makes of it, byte for byte."""
        default_language = self._default_language
        # Per message code, then per Accept-Language header as sent (None: not sent): the
        # envelope's bytes before its data, and its headers. Compact JSON is the concatenation
        # of its parts' compact JSON, so only the data is rendered per answer; and a header is
        # negotiated once, not per answer. The headers kept per code are bounded (a client may
        # send any): past the bound, the others are negotiated and rendered each time.
        parts: dict[str, dict[str | None, tuple[bytes, list[tuple[bytes, bytes]]]]] = {}

        def answer(accept_language: str | None, success: Success) -> FastAnswer:
            code, data = success
            by_header = parts.get(code)
            if by_header is None:
                by_header = parts[code] = {}
            known = by_header.get(accept_language)
            if known is None:
                # self.language(), as the full view has it
                language = negotiate(accept_language, default_language)
                result = {"status": 200, "message": message(code, language)}
                head = b'{"result":' + orjson.dumps(result) + b',"data":'
                # One list for every answer: the lane copies an answer's headers, never
                # changes them (http/fast_lane.py).
                known = head, [(b"vary", VARY_BYTES), (b"content-language", language.encode())]
                if len(by_header) < KEPT_LANGUAGE_HEADERS:
                    by_header[accept_language] = known
            head, headers = known
            return 200, headers, head + orjson.dumps(data) + b"}"

        return answer
