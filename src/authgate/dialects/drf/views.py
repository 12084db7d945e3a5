"""DRF's view runner: a view authenticates, then finds the method's handler (405 otherwise,
after authenticating, as DRF), and renders every failure in DRF's shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from authgate.core import Core
from authgate.core.errors import AuthgateError
from authgate.core.models import Principal
from authgate.dialects.authenticator import Authenticator
from authgate.dialects.dispatch import EveryMethod
from authgate.dialects.drf.errors import DRF_ERROR_TABLE, drf_error_shape
from authgate.dialects.drf.negotiation import (
    PARSES,
    RENDERS,
    VARY,
    VARY_BYTES,
    allow_header,
    json,
    renders_for,
)
from authgate.dialects.endpoints import Check, Endpoint, FieldInfo, Metadata
from authgate.dialects.errors import ErrorRenderer
from authgate.dialects.lane import PlainAnswer, Serves, lane_handlers
from authgate.dialects.schemes import schemes_of
from authgate.dialects.security_schemes import SecurityScheme
from authgate.http.errors import (
    MethodNotAllowedError,
    NotAcceptableError,
    PathNotFoundError,
)
from authgate.http.fast_lane import FastAnswer, FastHandler
from authgate.http.i18n import negotiate, translate


class DrfViews:
    """Runs endpoints in DRF's order and renders every failure in DRF's shape. `dialect`
    names the dialect whose authentication schemes to take (dialects/schemes.py)."""

    def __init__(self, core: Core, dialect: str) -> None:
        self.core = core
        schemes = schemes_of(core, dialect)
        self.authenticator = Authenticator(schemes)
        # DRF's errors: no dialect name, so a bug is re-raised (Starlette's logged 500).
        self._errors = ErrorRenderer(
            DRF_ERROR_TABLE, drf_error_shape, challenge=schemes[0].challenge
        )
        # What the endpoints that are not public take, any one of them, for the OpenAPI
        # document: the very schemes `authenticate` tries.
        self.security: tuple[SecurityScheme, ...] = tuple(s.security for s in schemes)
        self._default_language = core.settings.default_language
        # The lane's check of the Accept header: DRF negotiates the media type before anything.
        self.serves: Serves | None = renders_for

    async def authenticate(self, request: Request) -> Principal:
        """The principal of the first scheme that proves one, or an authentication failure."""
        return await self.authenticator.authenticate(request)

    def fast_handlers(
        self, prefixes: tuple[str, ...], endpoints: list[Endpoint]
    ) -> dict[tuple[str, str], FastHandler]:
        """The fast lane's handlers of the endpoints' plain successes (dialects/lane.py)."""
        return lane_handlers(self, prefixes, endpoints)

    def plain_answer(self, endpoint: Endpoint) -> PlainAnswer:
        """The lane's rendering of a success of `endpoint`: what `json` and the view's
        headers make of it."""
        allow = allow_header(list(endpoint.operations)).encode()
        default_language = self._default_language

        def answer(accept_language: str | None, success: object) -> FastAnswer:
            # self.language(), inline: a call less per answer of the lane
            language = negotiate(accept_language, default_language).encode()
            extra = [(b"allow", allow), (b"vary", VARY_BYTES), (b"content-language", language)]
            return 200, extra, orjson.dumps(success)

        return answer

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

    def language(self, connection: HTTPConnection) -> str:
        """The language of the answer to this request."""
        return negotiate(connection.headers.get("accept-language"), self._default_language)

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
