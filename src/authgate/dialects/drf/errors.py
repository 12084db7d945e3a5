"""DRF's errors: which status each error of the core or of reading a request gets (its
exceptions' status_code), and the body it answers them with (rendered by dialects/errors.py)."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from authgate.core.errors import (
    NON_FIELD,
    AccountCreationError,
    AuthgateError,
    InactiveUserError,
    InvalidCredentialsError,
    Message,
    NotFoundError,
    PermissionDeniedError,
    StaleTokenError,
    ThrottledError,
    TokenInvalidError,
    ValidationError,
)
from authgate.dialects.errors import COMMON_ERRORS, Answer, ErrorTable, Failure
from authgate.dialects.jwt_auth import JwtAuthenticationFailed
from authgate.dialects.schemes import CsrfFailedError
from authgate.http.errors import (
    FieldTooLongError,
    InvalidTextError,
    MalformedBodyError,
    MalformedCredentialsError,
    NotAcceptableError,
    NotAuthenticatedError,
    RequestError,
)
from authgate.http.i18n import translate

# DRF's statuses (its exceptions' status_code); any other error of the core or of reading the
# request is a ValidationError's 400. The message is the error's own code.
DRF_ERROR_TABLE: ErrorTable = {
    **COMMON_ERRORS,
    AuthgateError: Answer(400),
    RequestError: Answer(400),
    NotAuthenticatedError: Answer(401),
    MalformedCredentialsError: Answer(401),
    TokenInvalidError: Answer(401),
    InactiveUserError: Answer(401),
    JwtAuthenticationFailed: Answer(401),
    PermissionDeniedError: Answer(403),
    CsrfFailedError: Answer(403),
    StaleTokenError: Answer(403),
    NotFoundError: Answer(404),
    NotAcceptableError: Answer(406),
}


def drf_error_shape(failure: Failure, language: str) -> Response:
    """DRF's error answer: `{"detail": ...}`, or field -> messages."""
    response = JSONResponse(
        _error_body(failure, language), status_code=failure.status, headers=failure.headers
    )
    response.headers["Content-Language"] = language
    return response


def _error_body(failure: Failure, language: str) -> object:
    """The body DRF answers for an error of the core or of reading the request."""
    error = failure.error
    if isinstance(error, ThrottledError):
        return {"detail": throttled_detail(error.retry_after, language)}
    if isinstance(error, ValidationError):
        return {
            ("non_field_errors" if name == NON_FIELD else name): [
                _word(message, language) for message in messages
            ]
            for name, messages in error.errors.items()
        }
    if isinstance(error, AccountCreationError):
        return [translate(failure.code, language)]
    if isinstance(error, InvalidCredentialsError):
        return {"non_field_errors": [translate(failure.code, language)]}
    if isinstance(error, MalformedBodyError):
        code = "json_parse_error" if error.params.get("kind") == "json" else "form_parse_error"
        return {"detail": translate(code, language, error.params)}
    if isinstance(error, FieldTooLongError):
        # A field error, as DRF's max_length validator words it.
        limit = {"max_length": error.params["max_length"]}
        return {str(error.params["field"]): [translate("max_length", language, limit)]}
    if isinstance(error, InvalidTextError):
        # A field error, as DRF's CharField words a null character or a surrogate.
        return {str(error.params["field"]): [_word(error.problem, language)]}
    if isinstance(error, JwtAuthenticationFailed):
        return error.body(language)
    if isinstance(error, CsrfFailedError):
        return {"detail": f"CSRF Failed: {error.params['reason']}"}
    return {"detail": translate(failure.code, language, failure.params)}


def throttled_detail(wait: int, language: str) -> str:
    """DRF's Throttled detail. DRF formats the "Expected available" sentence before asking
    gettext for it, so no catalogue ever matches: that half stays English in every language."""
    sentence = "throttled_wait_one" if wait == 1 else "throttled_wait_many"
    return f"{translate('throttled', language)} {translate(sentence, language, {'wait': wait})}"


def _word(message: Message, language: str) -> str:
    return translate(message.code, language, message.params)
