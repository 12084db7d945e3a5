"""Every error the core (and the reading of a request) raises, through each dialect's error
renderer (dialects/errors.py): the status and the body's shape the dialect answers it with.

The renderers are called directly: which view raises which error is the business of the
dialects' own tests; this is the one table of what each error becomes."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import orjson
import pytest
from starlette.requests import Request
from starlette.responses import Response

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.errors import (
    NON_FIELD,
    AccountCreationError,
    AuthgateError,
    ChangedMeanwhileError,
    ConflictError,
    InactiveUserError,
    InvalidCredentialsError,
    JwtBlacklistedError,
    JwtError,
    JwtExpiredError,
    JwtReusedError,
    JwtSessionEndedError,
    JwtUserError,
    Message,
    NotFoundError,
    PermissionDeniedError,
    StaleTokenError,
    ThrottledError,
    TokenInvalidError,
    UnavailableError,
    ValidationError,
)
from authgate.dialects.cookie_jwt.views import REFRESH_ERRORS as REFRESH_COOKIE_JWT, CookieJwtViews
from authgate.dialects.drf.views import DrfViews
from authgate.dialects.envelope.views import EnvelopeViews
from authgate.dialects.errors import DialectError, nearest
from authgate.dialects.simplejwt.views import REFRESH_ERRORS, VERIFY_ERRORS, SimpleJwtViews
from authgate.http.errors import (
    FieldTooLongError,
    InvalidTextError,
    MalformedBodyError,
    MalformedCredentialsError,
    MethodNotAllowedError,
    NotAcceptableError,
    NotAuthenticatedError,
    PathNotFoundError,
    PayloadTooLargeError,
    RequestError,
    UnsupportedMediaTypeError,
)
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store

# One of each error class, with what a dialect needs to word it.
ERRORS: dict[str, BaseException] = {
    "invalid_credentials": InvalidCredentialsError(),
    "token_invalid": TokenInvalidError(),
    "inactive": InactiveUserError(),
    "permission_denied": PermissionDeniedError(),
    "stale_token": StaleTokenError(),
    "not_found": NotFoundError(),
    "account_creation": AccountCreationError(),
    "validation": ValidationError({NON_FIELD: [Message("invalid")]}),
    "changed_meanwhile": ChangedMeanwhileError(),
    "conflict": ConflictError("email"),
    "throttled": ThrottledError(7),
    "unavailable": UnavailableError(),
    "jwt": JwtError(),
    "jwt_expired": JwtExpiredError(),
    "jwt_blacklisted": JwtBlacklistedError(),
    "jwt_reused": JwtReusedError(),
    "jwt_session_ended": JwtSessionEndedError(),
    "jwt_user": JwtUserError("jwt_user_inactive"),
    "not_authenticated": NotAuthenticatedError(),
    "malformed_credentials": MalformedCredentialsError("token_invalid_header"),
    "method_not_allowed": MethodNotAllowedError(method="PUT", allowed="POST"),
    "not_acceptable": NotAcceptableError(),
    "unsupported_media_type": UnsupportedMediaTypeError(media_type="text/plain"),
    "malformed_body": MalformedBodyError(kind="json", reason="Expecting value"),
    "path_not_found": PathNotFoundError(),
    "payload_too_large": PayloadTooLargeError(max_bytes=10),
    "field_too_long": FieldTooLongError(field="password", max_length=4096),
    "invalid_text": InvalidTextError(field="username", problem=Message("null_characters")),
    # A database driver's outage, and a bug.
    "driver_outage": sqlite3.OperationalError("database is locked"),
    "bug": RuntimeError("a bug"),
}
# What each dialect answers (a status; "raise": re-raised for Starlette's logged 500).
# DRF's is a ValidationError's 400 for every error of the core or of a request it has no
# status of its own for; the envelope and /u/api/ answer what they do not know with a 500.
DRF: dict[str, int | str] = {
    "invalid_credentials": 400,
    "token_invalid": 401,
    "inactive": 401,
    "permission_denied": 403,
    "stale_token": 403,
    "not_found": 404,
    "account_creation": 400,
    "validation": 400,
    "changed_meanwhile": 400,
    "conflict": 400,
    "throttled": 429,
    "unavailable": 503,
    "jwt": 400,
    "jwt_expired": 400,
    "jwt_blacklisted": 400,
    "jwt_reused": 400,
    "jwt_session_ended": 400,
    "jwt_user": 400,
    "not_authenticated": 401,
    "malformed_credentials": 401,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "unsupported_media_type": 415,
    "malformed_body": 400,
    "path_not_found": 404,
    "payload_too_large": 413,
    "field_too_long": 400,
    "invalid_text": 400,
    "driver_outage": 503,
    "bug": "raise",
}
ENVELOPE: dict[str, int | str] = {
    **dict.fromkeys(ERRORS, 500),
    "invalid_credentials": 401,
    "token_invalid": 401,
    "inactive": 401,
    "throttled": 429,
    "unavailable": 503,
    "not_authenticated": 401,
    "malformed_credentials": 401,
    "method_not_allowed": 405,
    "unsupported_media_type": 415,
    "malformed_body": 400,
    "path_not_found": 404,
    "payload_too_large": 413,
    "field_too_long": 400,
    "invalid_text": 400,
    "driver_outage": 503,
}
# /u/api/'s handlers turn the core's token and login failures into answers of their own.
COOKIE_JWT: dict[str, int | str] = {
    **dict.fromkeys(ERRORS, 500),
    "throttled": 429,
    "unavailable": 503,
    "method_not_allowed": 405,
    "unsupported_media_type": 415,
    "malformed_body": 400,
    "path_not_found": 404,
    "payload_too_large": 413,
    "field_too_long": 400,
    "invalid_text": 400,
    "driver_outage": 503,
}
TOKEN_CHALLENGE = "Token"


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    """A core that is never started: the renderers only read its settings."""
    yield from _core(tmp_path_factory.mktemp("errors"), {})


@pytest.fixture(scope="module")
def session_core(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    """Djoser with the session as its first scheme: no challenge to ask with."""
    yield from _core(tmp_path_factory.mktemp("errors"), {"djoser": ["session", "token"]})


def _core(path: Path, authentication: dict[str, list[str]]) -> Iterator[Core]:
    url = f"sqlite:///{path / 'unused.sqlite3'}"
    settings = Settings(
        database_url=url, secret_key="k" * 64, authentication=authentication, _env_file=None
    )
    built = build_core(settings, open_store(url), LogMailer())
    yield built
    asyncio.run(built.close())


def _request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": []})


def _expected_headers(name: str, status: int, challenge: str | None, allow: str) -> dict[str, str]:
    """The header each kind of failure adds: the challenge, Retry-After, Allow."""
    if status == 401 and name != "invalid_credentials" and challenge is not None:
        return {"www-authenticate": challenge}
    if name == "throttled":
        return {"retry-after": "7"}
    if name == "method_not_allowed":
        return {"allow": allow}
    return {}


def _check(
    render: Callable[[Request, Exception], Response],
    expected: Mapping[str, int | str],
    name: str,
    challenge: str | None,
    allow: str = "POST",
) -> tuple[int, object]:
    """Render ERRORS[name]; check its status and the headers it adds; the status and body."""
    error = ERRORS[name]
    assert isinstance(error, Exception)
    if expected[name] == "raise":
        with pytest.raises(type(error)):
            render(_request(), error)
        return 0, None
    response = render(_request(), error)
    assert response.status_code == expected[name], name
    added = {"www-authenticate", "retry-after", "allow"}
    headers = {k: v for k, v in response.headers.items() if k in added}
    assert headers == _expected_headers(name, response.status_code, challenge, allow), name
    assert response.headers["content-type"] == "application/json"
    return response.status_code, orjson.loads(response.body)


@pytest.mark.parametrize("name", ERRORS)
def test_drf(core: Core, name: str) -> None:
    views = DrfViews(core, "djoser")

    def render(request: Request, error: Exception) -> Response:
        return views.error_response(request, error, allowed=["POST"])

    # DRF's Allow lists the endpoint's methods in Django's order, OPTIONS always.
    status, body = _check(render, DRF, name, TOKEN_CHALLENGE, "POST, OPTIONS")
    if status == 0:
        return
    # DRF's shapes: {"detail": text}, field -> messages, or a list of messages.
    if name in ("validation", "invalid_credentials"):
        assert body == {"non_field_errors": [str_item(body)]}
    elif name == "account_creation":
        assert isinstance(body, list)
        assert all(isinstance(m, str) for m in body)
    elif name in ("field_too_long", "invalid_text"):
        field = "password" if name == "field_too_long" else "username"
        assert isinstance(body, dict)
        assert list(body) == [field]
    else:
        assert isinstance(body, dict)
        assert list(body) == ["detail"], name
        assert isinstance(body["detail"], str)
        assert body["detail"]


def str_item(body: object) -> str:
    """The one message of a `non_field_errors` body."""
    assert isinstance(body, dict)
    (message,) = body["non_field_errors"]
    assert isinstance(message, str)
    assert message
    return message


@pytest.mark.parametrize("name", ERRORS)
def test_drf_without_a_challenge_answers_403(session_core: Core, name: str) -> None:
    views = DrfViews(session_core, "djoser")
    expected: dict[str, int | str] = {
        key: 403 if status == 401 else status for key, status in DRF.items()
    }

    def render(request: Request, error: Exception) -> Response:
        return views.error_response(request, error, allowed=["POST"])

    _check(render, expected, name, None, "POST, OPTIONS")


@pytest.mark.parametrize("name", ERRORS)
def test_envelope(core: Core, name: str) -> None:
    status, body = _check(EnvelopeViews(core).error_response, ENVELOPE, name, "Bearer")
    assert isinstance(body, dict)
    assert list(body) == ["result", "data"]
    assert body["data"] == {}
    assert list(body["result"]) == ["status", "message"]
    assert body["result"]["status"] == status
    assert isinstance(body["result"]["message"], str)
    assert body["result"]["message"]


@pytest.mark.parametrize("name", ERRORS)
def test_cookie_jwt(core: Core, name: str) -> None:
    _, body = _check(CookieJwtViews(core).error_response, COOKIE_JWT, name, "Bearer")
    assert isinstance(body, dict)
    assert list(body) == ["detail"]
    assert isinstance(body["detail"], str)
    assert body["detail"]


@pytest.mark.parametrize("name", [name for name in ERRORS if name.startswith("jwt")])
def test_simplejwt_refresh_and_verify(core: Core, name: str) -> None:
    """SimpleJWT's token views: every JwtError is InvalidToken's 401 `{"detail", "code"}`,
    a reused or ended login saying so; verify answers a blacklisted token as a field error."""
    error = ERRORS[name]
    if not isinstance(error, JwtError):
        assert nearest(REFRESH_ERRORS, error) is None  # JwtUserError never leaves core.jwts
        return
    views = SimpleJwtViews(core, DrfViews(core, "simplejwt"))
    codes = {"jwt_reused": "token_reused", "jwt_session_ended": "session_ended"}
    for table, renderer in (
        (REFRESH_ERRORS, views._refresh_errors),
        (VERIFY_ERRORS, views._verify_errors),
    ):
        answer = nearest(table, error)
        assert answer is not None
        response = renderer.render(error, "en")
        body = orjson.loads(response.body)
        if table is VERIFY_ERRORS and isinstance(error, JwtBlacklistedError):
            assert (response.status_code, list(body)) == (400, ["non_field_errors"])
            assert "www-authenticate" not in response.headers
            continue
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="api"'
        expected_code = (
            codes.get(name, "token_not_valid") if table is REFRESH_ERRORS else "token_not_valid"
        )
        assert body["code"] == expected_code
        assert list(body) == ["detail", "code"]


class _LaterTokenError(TokenInvalidError):
    """A subclass a later change might add: it answers as its parent until a table names it."""


class _LaterBodyError(MalformedBodyError):
    """The same, for an error of reading a request."""


class _LaterOutageError(UnavailableError):
    """The same, for an outage."""


@pytest.mark.parametrize(
    ("error", "drf", "envelope", "cookie_jwt"),
    [
        (_LaterTokenError(), 401, 401, 500),
        (_LaterBodyError(kind="json", reason="x"), 400, 400, 400),
        (_LaterOutageError(), 503, 503, 503),
    ],
)
def test_a_subclass_answers_as_its_parent(
    core: Core, error: AuthgateError | RequestError, drf: int, envelope: int, cookie_jwt: int
) -> None:
    """The tables are looked up along the class hierarchy (the old ones matched the exact
    class: a subclass of an error they knew fell to DRF's 400 or the others' 500)."""
    request = _request()
    answers = (
        DrfViews(core, "djoser").error_response(request, error).status_code,
        EnvelopeViews(core).error_response(request, error).status_code,
        CookieJwtViews(core).error_response(request, error).status_code,
    )
    assert answers == (drf, envelope, cookie_jwt)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (JwtReusedError(), "token_reused"),
        (JwtSessionEndedError(), "session_ended"),
        (JwtBlacklistedError(), "refresh_invalid"),
        (JwtExpiredError(), "refresh_invalid"),
        (InvalidCredentialsError(), "refresh_invalid"),
    ],
)
def test_cookie_jwt_refresh_answers_a_bad_refresh_token_400(
    core: Core, error: Exception, code: str
) -> None:
    """/u/api/refresh/'s own table: every failure of the token a 400, naming what ended a
    login."""
    answer = CookieJwtViews(core).error_response(
        _request(), DialectError.of(REFRESH_COOKIE_JWT, error)
    )
    body = orjson.loads(answer.body)
    assert answer.status_code == 400
    assert "www-authenticate" not in answer.headers
    stated = code in ("token_reused", "session_ended")  # what ended a login is named
    assert list(body) == (["detail", "code"] if stated else ["detail"])
    assert body.get("code", code) == code
