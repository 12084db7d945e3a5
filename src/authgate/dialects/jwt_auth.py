"""`Authorization: Bearer <jwt>` as SimpleJWT's JWTAuthentication reads it, for the DRF-shaped
dialects configured to take JWTs (the `jwt` scheme of dialects/schemes.py); the SimpleJWT
dialect's own token views authenticate nobody, as SimpleJWT's.

The keyword compares case-sensitively (`bearer` is not ours: anonymous), unlike DRF's Token.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import Scope

from authgate.core import Core
from authgate.core.errors import JwtError, JwtUserError
from authgate.core.jwt import ACCESS
from authgate.core.models import Principal
from authgate.http.credentials import authorization
from authgate.http.errors import RequestError
from authgate.http.i18n import translate


class JwtAuthenticationFailed(RequestError):  # noqa: N818 DRF's name for it
    """A 401 in SimpleJWT's shape; `body(language)` words it."""

    def __init__(self, code: str, detail: str, *, messages: list[JwtError] | None = None) -> None:
        super().__init__()
        self.code = code
        self.detail = detail
        self.messages = messages or []

    def body(self, language: str) -> dict[str, object]:
        """The JSON body of the 401."""
        body: dict[str, object] = {"detail": translate(self.detail, language), "code": self.code}
        if self.messages:
            body["messages"] = [
                {
                    "token_class": "AccessToken",
                    "token_type": ACCESS,
                    "message": translate(error.code, language, error.params),
                }
                for error in self.messages
            ]
        return body


_USER_ERROR_CODES: Mapping[str, str] = {
    "jwt_no_user_id": "token_not_valid",
    "jwt_user_not_found": "user_not_found",
    "jwt_user_inactive": "user_inactive",
    "jwt_password_changed": "password_changed",
    "jwt_session_ended": "session_ended",
}


class JwtAuthentication:
    """SimpleJWT's JWTAuthentication over core.jwts (with the per-user generation check)."""

    def __init__(self, core: Core) -> None:
        self._jwts = core.jwts
        self._keywords = frozenset(k.encode() for k in core.settings.jwt_auth_header_types)
        self.challenge = f'{core.settings.jwt_auth_header_types[0]} realm="api"'

    def read(self, scope: Scope) -> str | None:
        """The request's access token; None when the header is absent or of another scheme;
        JwtAuthenticationFailed for a header of ours that cannot hold one."""
        header = authorization(scope)
        if header is None:
            return None
        parts = header.split()
        if not parts or parts[0] not in self._keywords:
            return None
        if len(parts) != 2:
            raise JwtAuthenticationFailed(
                "bad_authorization_header", "jwt_bad_authorization_header"
            )
        return parts[1].decode("latin-1")

    async def prove(self, raw: str) -> Principal:
        """The access token's user; JwtAuthenticationFailed for a token that proves nobody."""
        try:
            return await self._jwts.authenticate(raw)
        except JwtError as error:
            raise JwtAuthenticationFailed(
                "token_not_valid", "jwt_not_valid_for_any_token_type", messages=[error]
            ) from error
        except JwtUserError as error:
            raise JwtAuthenticationFailed(_USER_ERROR_CODES[error.code], error.code) from error
