"""DRF's wire behaviour, shared by the DRF-speaking dialects: the order a view runs in
(authenticate, then the method, then the handler) and the one table mapping errors to answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from authgate.core import Core
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
    TokenInvalidError,
    ValidationError,
)
from authgate.core.models import Principal
from authgate.http.credentials import read_token
from authgate.http.errors import (
    MalformedBodyError,
    MalformedCredentialsError,
    MethodNotAllowedError,
    NotAuthenticatedError,
    PathNotFoundError,
    RequestError,
    UnsupportedMediaTypeError,
)
from authgate.http.i18n import negotiate, translate

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
Handler = Callable[[Request, Principal | None], Awaitable[Response]]
AUTHENTICATION_FAILURES = (
    NotAuthenticatedError,
    MalformedCredentialsError,
    TokenInvalidError,
    InactiveUserError,
)
_STATUS: dict[type[Exception], int] = {
    NotAuthenticatedError: 401,
    MalformedCredentialsError: 401,
    TokenInvalidError: 401,
    InactiveUserError: 401,
    PermissionDeniedError: 403,
    StaleTokenError: 403,
    NotFoundError: 404,
    PathNotFoundError: 404,
    MethodNotAllowedError: 405,
    UnsupportedMediaTypeError: 415,
}


@dataclass(frozen=True, slots=True)
class Operation:
    """One method of an endpoint, and what the OpenAPI document says of it."""

    handler: Handler
    summary: str
    public: bool = False
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    many: bool = False
    status: int = 200


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A path and its methods. `public` decides who may learn which methods exist."""

    path: str
    operations: Mapping[str, Operation]
    public: bool = False
    name: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def json(data: object, status: int = 200) -> Response:
    """A JSON answer as DRF renders it (compact, UTF-8)."""
    return JSONResponse(data, status_code=status)


def no_content() -> Response:
    """204 with an empty body."""
    return Response(status_code=204)


class DrfViews:
    """Runs endpoints in DRF's order and renders every failure in DRF's shape."""

    def __init__(self, core: Core) -> None:
        self.core = core
        settings = core.settings
        self._keywords = frozenset(k.lower() for k in settings.token_keywords)
        self._challenge = settings.token_keywords[0]
        self._default_language = settings.default_language

    async def authenticate(self, request: Request) -> Principal:
        """The request's principal, or an authentication failure."""
        raw = read_token(request, self._keywords)
        if raw is None:
            raise NotAuthenticatedError
        return await self.core.tokens.resolve(raw)

    def routes(self, endpoints: list[Endpoint]) -> list[BaseRoute]:
        """Starlette routes for the endpoints, each also answering without its trailing slash."""
        routes: list[BaseRoute] = []
        for endpoint in endpoints:
            view = self._view(endpoint)
            routes.append(
                Route(endpoint.path, view, methods=ALL_METHODS, name=endpoint.name or None)
            )
            if endpoint.path.endswith("/") and endpoint.path != "/":
                routes.append(Route(endpoint.path.rstrip("/"), view, methods=ALL_METHODS))
        return routes

    def _view(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def view(request: Request) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            operation = endpoint.operations.get(method)
            try:
                public = operation.public if operation else endpoint.public
                # An open endpoint ignores a stale Authorization header, so a client holding a
                # dead token can always log in again (DRF would answer 401 first).
                principal = None if public else await self.authenticate(request)
                if operation is None:
                    raise MethodNotAllowedError(method=request.method)
                return await operation.handler(request, principal)
            except (AuthgateError, RequestError) as error:
                return self.error_response(request, error, allowed=list(endpoint.operations))

        return view

    def error_response(
        self, request: Request, error: Exception, *, allowed: list[str] | None = None
    ) -> Response:
        """The DRF-shaped answer for any error of the core or of reading the request."""
        language = negotiate(request.headers.get("accept-language"), self._default_language)
        headers: dict[str, str] = {}
        status = _STATUS.get(type(error), 400)
        body: object
        if isinstance(error, ValidationError):
            body = {
                ("non_field_errors" if name == NON_FIELD else name): [
                    _word(message, language) for message in messages
                ]
                for name, messages in error.errors.items()
            }
        elif isinstance(error, AccountCreationError):
            body = [translate(error.code, language)]
        elif isinstance(error, InvalidCredentialsError):
            body = {"non_field_errors": [translate(error.code, language)]}
        elif isinstance(error, MalformedBodyError):
            code = "json_parse_error" if error.params.get("kind") == "json" else "form_parse_error"
            body = {"detail": translate(code, language, error.params)}
        elif isinstance(error, RequestError | AuthgateError):
            params = getattr(error, "params", None)
            body = {"detail": translate(error.code, language, params)}
            if isinstance(error, MethodNotAllowedError):
                headers["Allow"] = ", ".join([*(allowed or []), "OPTIONS"])
        else:
            raise error
        if isinstance(error, AUTHENTICATION_FAILURES):
            headers["WWW-Authenticate"] = self._challenge
        response = JSONResponse(body, status_code=status, headers=headers)
        response.headers["Content-Language"] = language
        return response

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        """Starlette's own 404/405 inside this dialect's mount, in DRF's shape."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 405:
            return self.error_response(request, MethodNotAllowedError(method=request.method))
        return self.error_response(request, PathNotFoundError())


def _word(message: Message, language: str) -> str:
    return translate(message.code, language, message.params)
