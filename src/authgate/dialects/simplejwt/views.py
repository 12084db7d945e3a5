"""SimpleJWT's token views over the core: parse, call core.jwts, answer as SimpleJWT 5.5.

Failures of the token itself are 401 `{"detail", "code": "token_not_valid"}` (SimpleJWT's
InvalidToken); a user who may not have tokens is 401 `{"detail"}` (DRF's AuthenticationFailed).
Every 401 carries `WWW-Authenticate: Bearer realm="api"`, as SimpleJWT's views send it. Each
view has its table of these (rendered by dialects/errors.py); field errors, unreadable bodies
and anything else take the shared DRF rendering (dialects/drf/).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authgate.core import Core
from authgate.core.errors import (
    InvalidCredentialsError,
    JwtBlacklistedError,
    JwtError,
    JwtReusedError,
    JwtSessionEndedError,
)
from authgate.core.models import Principal
from authgate.dialects.drf.negotiation import json
from authgate.dialects.drf.views import DrfViews
from authgate.dialects.errors import Answer, ErrorRenderer, ErrorTable, Failure
from authgate.dialects.fields import parse
from authgate.dialects.simplejwt import schemas as s
from authgate.http.i18n import translate
from authgate.http.parsing import read_body

TOKEN_NOT_VALID = "token_not_valid"
# authgate's own codes (CONTRACT 7.8): what ended a login, so a client can say it.
TOKEN_REUSED = "token_reused"
SESSION_ENDED = "session_ended"
REALM = "api"
# Each view's answers to the core's failures. A JwtError's message is its own code's text; the
# table's code is the body's `code`. InvalidCredentialsError is DRF's AuthenticationFailed.
OBTAIN_ERRORS: ErrorTable = {InvalidCredentialsError: Answer(401, "jwt_no_active_account")}
REFRESH_ERRORS: ErrorTable = {
    JwtReusedError: Answer(401, TOKEN_REUSED),
    JwtSessionEndedError: Answer(401, SESSION_ENDED),
    JwtError: Answer(401, TOKEN_NOT_VALID),
    InvalidCredentialsError: Answer(401, "jwt_no_active_account_for_token"),
}
# SimpleJWT's verify serializer raises a ValidationError for a blacklisted token, not InvalidToken.
VERIFY_ERRORS: ErrorTable = {
    JwtBlacklistedError: Answer(400, "jwt_blacklisted"),
    JwtError: Answer(401, TOKEN_NOT_VALID),
}
CAUGHT = (JwtError, InvalidCredentialsError)


def _error_shape(failure: Failure, language: str) -> Response:
    """SimpleJWT's bodies: InvalidToken's `{"detail", "code"}`, AuthenticationFailed's
    `{"detail"}`, the verify serializer's `{"non_field_errors"}`."""
    error = failure.error
    body: dict[str, object]
    if failure.status == 400:
        body = {"non_field_errors": [translate(failure.code, language)]}
    elif isinstance(error, JwtError):
        body = {"detail": translate(error.code, language, error.params), "code": failure.code}
    else:
        body = {"detail": translate(failure.code, language)}
    response = json(body, status=failure.status)
    response.headers.update(failure.headers)
    return response


class SimpleJwtViews:
    """The handlers of the SimpleJWT dialect."""

    def __init__(self, core: Core, drf: DrfViews) -> None:
        self.core = core
        self._drf = drf
        self._login_field = core.settings.login_field
        self.challenge = f'{core.settings.jwt_auth_header_types[0]} realm="{REALM}"'
        self._obtain_errors, self._refresh_errors, self._verify_errors = (
            ErrorRenderer(table, _error_shape, challenge=self.challenge)
            for table in (OBTAIN_ERRORS, REFRESH_ERRORS, VERIFY_ERRORS)
        )

    async def create(self, request: Request, _: Principal | None) -> Response:
        """TokenObtainPairView."""
        model: type[s.ObtainIn | s.ObtainByEmailIn] = (
            s.ObtainByEmailIn if self._login_field == "email" else s.ObtainIn
        )
        body = parse(model, await read_body(request))
        login = getattr(body, self._login_field)
        try:
            user = await self.core.logins.authenticate(login=login, password=body.password)
            refresh, access = await self.core.jwts.issue_pair(user)
        except InvalidCredentialsError as error:
            return self._obtain_errors.render(error, self._drf.language(request))
        return json({"refresh": refresh, "access": access})

    async def refresh(self, request: Request, _: Principal | None) -> Response:
        """TokenRefreshView."""
        body = parse(s.RefreshIn, await read_body(request))
        try:
            refreshed = await self.core.jwts.refresh(body.refresh)
        except CAUGHT as error:
            return self._refresh_errors.render(error, self._drf.language(request))
        answer = {"access": refreshed.access}
        if refreshed.refresh is not None:
            answer["refresh"] = refreshed.refresh
        return json(answer)

    async def verify(self, request: Request, _: Principal | None) -> Response:
        """TokenVerifyView."""
        body = parse(s.VerifyIn, await read_body(request))
        try:
            await self.core.jwts.verify(body.token)
        except JwtError as error:
            return self._verify_errors.render(error, self._drf.language(request))
        return json({})
