"""SimpleJWT's token views over the core: parse, call core.jwts, answer as SimpleJWT 5.5.

Failures of the token itself are 401 `{"detail", "code": "token_not_valid"}` (SimpleJWT's
InvalidToken); a user who may not have tokens is 401 `{"detail"}` (DRF's AuthenticationFailed).
Every 401 carries `WWW-Authenticate: Bearer realm="api"`, as SimpleJWT's views send it. Field
errors and unreadable bodies take the shared DRF rendering (dialects/drf.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from authgate.core import Core
from authgate.core.errors import InvalidCredentialsError
from authgate.core.jwt import JwtBlacklistedError, JwtError, JwtReusedError, JwtSessionEndedError
from authgate.core.models import Principal
from authgate.dialects.drf import DrfViews, json
from authgate.dialects.fields import parse
from authgate.dialects.simplejwt import schemas as s
from authgate.http.i18n import translate
from authgate.http.parsing import read_body

TOKEN_NOT_VALID = "token_not_valid"
# authgate's own codes (CONTRACT 7.8): what ended a login, so a client can say it.
TOKEN_REUSED = "token_reused"
SESSION_ENDED = "session_ended"
REALM = "api"


class SimpleJwtViews:
    """The handlers of the SimpleJWT dialect."""

    def __init__(self, core: Core, drf: DrfViews) -> None:
        self.core = core
        self._drf = drf
        self._login_field = core.settings.login_field
        self.challenge = f'{core.settings.jwt_auth_header_types[0]} realm="{REALM}"'

    async def create(self, request: Request, _: Principal | None) -> Response:
        """TokenObtainPairView."""
        model: type[s.ObtainIn | s.ObtainByEmailIn] = (
            s.ObtainByEmailIn if self._login_field == "email" else s.ObtainIn
        )
        body = parse(model, await read_body(request))
        login = getattr(body, self._login_field)
        try:
            user = await self.core.users.authenticate(login=login, password=body.password)
            refresh, access = await self.core.jwts.issue_pair(user)
        except InvalidCredentialsError:
            return self._unauthorized(request, "jwt_no_active_account")
        return json({"refresh": refresh, "access": access})

    async def refresh(self, request: Request, _: Principal | None) -> Response:
        """TokenRefreshView."""
        body = parse(s.RefreshIn, await read_body(request))
        try:
            refreshed = await self.core.jwts.refresh(body.refresh)
        except JwtReusedError as error:
            return self._invalid_token(request, error, TOKEN_REUSED)
        except JwtSessionEndedError as error:
            return self._invalid_token(request, error, SESSION_ENDED)
        except JwtError as error:
            return self._invalid_token(request, error)
        except InvalidCredentialsError:
            return self._unauthorized(request, "jwt_no_active_account_for_token")
        answer = {"access": refreshed.access}
        if refreshed.refresh is not None:
            answer["refresh"] = refreshed.refresh
        return json(answer)

    async def verify(self, request: Request, _: Principal | None) -> Response:
        """TokenVerifyView."""
        body = parse(s.VerifyIn, await read_body(request))
        try:
            await self.core.jwts.verify(body.token)
        except JwtBlacklistedError:
            # SimpleJWT's verify serializer raises a ValidationError here, not InvalidToken.
            message = translate("jwt_blacklisted", self._drf.language(request))
            return json({"non_field_errors": [message]}, status=400)
        except JwtError as error:
            return self._invalid_token(request, error)
        return json({})

    def _invalid_token(
        self, request: Request, error: JwtError, code: str = TOKEN_NOT_VALID
    ) -> Response:
        language = self._drf.language(request)
        detail = translate(error.code, language, error.params)
        return self._answer_401({"detail": detail, "code": code})

    def _unauthorized(self, request: Request, code: str) -> Response:
        return self._answer_401({"detail": translate(code, self._drf.language(request))})

    def _answer_401(self, body: Mapping[str, object]) -> Response:
        response = json(body, status=401)
        response.headers["WWW-Authenticate"] = self.challenge
        return response
