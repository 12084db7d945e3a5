"""DRF's wire behaviour, shared by the DRF-speaking dialects: the order a view runs in
(authenticate, then the method, then the handler) and DRF's table and body shape for errors
(rendered by dialects/errors.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import orjson
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import Receive, Scope, Send

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
    ThrottledError,
    TokenInvalidError,
    ValidationError,
)
from authgate.core.models import Principal
from authgate.dialects.errors import COMMON_ERRORS, Answer, ErrorRenderer, ErrorTable, Failure
from authgate.dialects.jwt_auth import JwtAuthenticationFailed
from authgate.dialects.schemes import CsrfFailedError, TokenScheme, schemes_of
from authgate.dialects.security_schemes import SecurityScheme
from authgate.http.credentials import parse_token
from authgate.http.errors import (
    FieldTooLongError,
    InvalidTextError,
    MalformedBodyError,
    MalformedCredentialsError,
    MethodNotAllowedError,
    NotAcceptableError,
    NotAuthenticatedError,
    PathNotFoundError,
    RequestError,
)
from authgate.http.fast_lane import FastAnswer, FastHandler, single_headers
from authgate.http.i18n import negotiate, translate

# The order DRF lists a view's methods in `Allow` (Django's View.http_method_names).
ALLOW_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# DRF's default renderers: JSON, and the browsable API's HTML (answered with JSON here).
RENDERED_TYPES = (("application", "json"), ("text", "html"))
# What DRF's metadata lists (its default renderer and parser classes).
RENDERS = ("application/json", "text/html")
PARSES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")
# DRF varies every answer on these (its content negotiation, Django's LocaleMiddleware).
VARY = "Accept, Accept-Language"
VARY_BYTES = VARY.encode()
FAST_LANE_HEADERS = frozenset({b"accept", b"authorization", b"accept-language"})
FieldInfo = Mapping[str, object]
"""One field as DRF's SimpleMetadata describes it; `label` and `help_text` are message codes."""
Handler = Callable[[Request, Principal | None], Awaitable[Response]]
Check = Callable[[Request, Principal | None], Awaitable[object]]
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


@dataclass(frozen=True, slots=True)
class Operation:
    """One method of an endpoint, and what the OpenAPI document says of it."""

    handler: Handler
    summary: str
    public: bool = False
    request: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    """The query parameters it reads, each a field of this model."""
    response: type[BaseModel] | None = None
    many: bool = False
    status: int = 200
    answer_of: Callable[[Principal], object] | None = None
    """For a GET whose success depends only on who asks: its body. Such an operation is
    also served by the fast lane (http/fast_lane.py)."""
    optional_credentials: bool = False
    """A public operation that acts on the dialect's credentials when it is given them (a
    logout that always succeeds): the document lists them, and none, as its security."""


@dataclass(frozen=True, slots=True)
class Metadata:
    """What OPTIONS answers about an endpoint, as DRF's SimpleMetadata does."""

    name: str
    description: str = ""
    actions: Mapping[str, Mapping[str, FieldInfo]] = field(default_factory=dict)
    """Per method (POST, PUT): the fields DRF describes for it."""
    shows_actions: Check | None = None
    """Raises an AuthgateError for a caller who gets no `actions` (DRF drops them when its
    object check fails)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A path and its methods. `public` decides who may learn which methods exist."""

    path: str
    operations: Mapping[str, Operation]
    public: bool = False
    metadata: Metadata | None = None


class EveryMethod:
    """A view as a plain ASGI app, which Starlette routes every method to (a function endpoint
    gets GET only, or a fixed list). The view then authenticates before it answers 405, as
    DRF does, for TRACE or an unknown method too."""

    def __init__(self, view: Callable[[Request], Awaitable[Response]]) -> None:
        self._app = request_response(view)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        await self._app(scope, receive, send)


class CompactJSONResponse(JSONResponse):
    """JSON as DRF renders it: compact, UTF-8, not ASCII-escaped (orjson's only form)."""

    def render(self, content: object) -> bytes:
        """The body."""
        return orjson.dumps(content)


def json(data: object, status: int = 200) -> Response:
    """A JSON answer as DRF renders it."""
    return CompactJSONResponse(data, status_code=status)


def no_content() -> Response:
    """204 with an empty body."""
    return Response(status_code=204)


class DrfViews:
    """Runs endpoints in DRF's order and renders every failure in DRF's shape. `dialect`
    names the dialect whose authentication schemes to take (dialects/schemes.py)."""

    def __init__(self, core: Core, dialect: str) -> None:
        self.core = core
        self._schemes = schemes_of(core, dialect)
        # DRF's errors: no dialect name, so a bug is re-raised (Starlette's logged 500).
        self._errors = ErrorRenderer(
            DRF_ERROR_TABLE, drf_error_shape, challenge=self._schemes[0].challenge
        )
        # What the endpoints that are not public take, any one of them, for the OpenAPI
        # document: the very schemes `authenticate` tries.
        self.security: tuple[SecurityScheme, ...] = tuple(s.security for s in self._schemes)
        self._default_language = core.settings.default_language

    async def authenticate(self, request: Request) -> Principal:
        """The principal of the first scheme that proves one, or an authentication failure."""
        for scheme in self._schemes:
            principal = await scheme.authenticate(request)
            if principal is not None:
                return principal
        raise NotAuthenticatedError

    def fast_handlers(
        self, prefixes: tuple[str, ...], endpoints: list[Endpoint]
    ) -> dict[tuple[str, str], FastHandler]:
        """Fast-lane handlers for every GET with an `answer_of`, under each prefix, with and
        without the trailing slash; only where opaque tokens are the first scheme, the one
        the fast lane knows (anything else takes the full view)."""
        handlers: dict[tuple[str, str], FastHandler] = {}
        tokens = self._schemes[0]
        if not isinstance(tokens, TokenScheme):
            return handlers
        for endpoint in endpoints:
            operation = endpoint.operations.get("GET")
            if operation is None or operation.answer_of is None:
                continue
            handler = self._fast(endpoint, operation.answer_of, tokens)
            for prefix in prefixes:
                path = prefix + endpoint.path
                handlers["GET", path] = handlers["GET", path.rstrip("/")] = handler
        return handlers

    def _fast(
        self, endpoint: Endpoint, answer_of: Callable[[Principal], object], tokens: TokenScheme
    ) -> FastHandler:
        allow = allow_header(list(endpoint.operations)).encode()

        async def handler(scope: Scope, _body: bytes) -> FastAnswer | None:
            # Only the plain success is answered here; anything else takes the full view,
            # which owns every error answer.
            headers = single_headers(scope, FAST_LANE_HEADERS)
            if headers is None:
                return None
            accept = headers.get(b"accept")
            if accept is not None and not renders_for(accept.decode("latin-1")):
                return None
            try:
                raw = parse_token(headers.get(b"authorization"), tokens.keywords)
                if raw is None or not tokens.takes(raw):
                    return None
                principal = await self.core.tokens.resolve(raw)
            except (AuthgateError, RequestError):
                return None
            accept_language = headers.get(b"accept-language")
            language = negotiate(
                accept_language.decode("latin-1") if accept_language else None,
                self._default_language,
            )
            extra = [
                (b"allow", allow),
                (b"vary", VARY_BYTES),
                (b"content-language", language.encode()),
            ]
            return 200, extra, orjson.dumps(answer_of(principal))

        return handler

    def routes(self, endpoints: list[Endpoint]) -> list[BaseRoute]:
        """Starlette routes for the endpoints, each also answering without its trailing slash."""
        routes: list[BaseRoute] = []
        for endpoint in endpoints:
            app = EveryMethod(self._view(endpoint))
            routes.append(Route(endpoint.path, app))
            if endpoint.path.endswith("/") and endpoint.path != "/":
                routes.append(Route(endpoint.path.rstrip("/"), app))
        return routes

    def _view(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        allow = allow_header(list(endpoint.operations))

        async def view(request: Request) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            operation = endpoint.operations.get(method)
            try:
                # DRF negotiates the answer's media type before anything else, 401 included.
                if not renders_for(request.headers.get("accept")):
                    raise NotAcceptableError
                public = operation.public if operation else endpoint.public
                # An open endpoint ignores a stale Authorization header, so a client holding a
                # dead token can always log in again (DRF would answer 401 first).
                principal = None if public else await self.authenticate(request)
                if operation is not None:
                    response = await operation.handler(request, principal)
                elif method == "OPTIONS" and endpoint.metadata is not None:
                    response = await self.describe(request, endpoint.metadata, principal)
                else:
                    raise MethodNotAllowedError(method=request.method)
            except Exception as error:  # noqa: BLE001 a bug is re-raised: Starlette's logged 500
                response = self.error_response(request, error, allowed=list(endpoint.operations))
            # DRF's view and Django's LocaleMiddleware put these on every answer.
            response.headers["Allow"] = allow
            response.headers["Vary"] = VARY
            response.headers.setdefault("Content-Language", self.language(request))
            return response

        return view

    def language(self, request: Request) -> str:
        """The language of the answer to `request`."""
        return negotiate(request.headers.get("accept-language"), self._default_language)

    async def describe(
        self, request: Request, metadata: Metadata, principal: Principal | None
    ) -> Response:
        """The OPTIONS answer: DRF's SimpleMetadata document for the endpoint."""
        body: dict[str, object] = {
            "name": metadata.name,
            "description": metadata.description,
            "renders": list(RENDERS),
            "parses": list(PARSES),
        }
        if metadata.actions and await _passes(metadata.shows_actions, request, principal):
            language = self.language(request)
            body["actions"] = {
                method: {name: _described(info, language) for name, info in fields.items()}
                for method, fields in metadata.actions.items()
            }
        return json(body)

    def error_response(
        self, request: Request, error: Exception, *, allowed: list[str] | None = None
    ) -> Response:
        """The DRF-shaped answer for any error of the core or of reading the request, or for
        the database away; any other error is re-raised."""
        language = self.language(request)
        failure = self._errors.failure(error, language)
        if failure is None:
            raise error
        if isinstance(error, MethodNotAllowedError):
            failure.headers["Allow"] = allow_header(allowed or [])
        return drf_error_shape(failure, language)

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        """Starlette's own 404/405 inside this dialect's mount, in DRF's shape."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 405:
            return self.error_response(request, MethodNotAllowedError(method=request.method))
        return self.error_response(request, PathNotFoundError())


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


async def _passes(check: Check | None, request: Request, principal: Principal | None) -> bool:
    """Whether `check` lets this caller through (no check lets everyone)."""
    if check is None:
        return True
    try:
        await check(request, principal)
    except AuthgateError:
        return False
    return True


def _described(info: FieldInfo, language: str) -> dict[str, object]:
    """A field's metadata with its label and help text worded in `language`."""
    return {
        key: translate(str(value), language) if key in ("label", "help_text") else value
        for key, value in info.items()
    }


def renders_for(accept: str | None) -> bool:
    """Whether DRF's content negotiation finds a renderer for this Accept header: some listed
    media type (wildcards allowed, case-blind, parameters and q ignored) matches one of its
    renderers. A missing header accepts anything; an empty one accepts nothing."""
    if accept is None:
        return True
    for listed in accept.split(","):
        main, _, sub = listed.split(";", 1)[0].strip().lower().partition("/")
        for renderer_main, renderer_sub in RENDERED_TYPES:
            if main in ("*", renderer_main) and sub in ("*", renderer_sub):
                return True
    return False


def allow_header(methods: list[str]) -> str:
    """`Allow` as DRF sends it: Django's method order, HEAD wherever GET is (Django's View
    answers HEAD with its GET handler), and OPTIONS always."""
    offered = {*methods, "OPTIONS"}
    if "GET" in offered:
        offered.add("HEAD")
    return ", ".join(method for method in ALLOW_ORDER if method in offered)


def throttled_detail(wait: int, language: str) -> str:
    """DRF's Throttled detail. DRF formats the "Expected available" sentence before asking
    gettext for it, so no catalogue ever matches: that half stays English in every language."""
    sentence = "throttled_wait_one" if wait == 1 else "throttled_wait_many"
    return f"{translate('throttled', language)} {translate(sentence, language, {'wait': wait})}"


def _word(message: Message, language: str) -> str:
    return translate(message.code, language, message.params)
