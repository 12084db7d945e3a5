"""The /u/api/ dialect's table of paths, and the routes built from it."""

from __future__ import annotations

from authgate.core import Core
from authgate.dialects.base import Dialect, ErrorDocs
from authgate.dialects.cookie_jwt import schemas as s
from authgate.dialects.cookie_jwt.views import (
    COOKIE_JWT_ERROR_TABLE,
    DECIDED_STATUSES,
    CookieJwtViews,
)
from authgate.dialects.dispatch import endpoint_view, every_method_routes, http_exception_handler
from authgate.dialects.endpoints import Endpoint, Operation
from authgate.dialects.errors import documented_statuses
from authgate.dialects.lane import lane_handlers

# FastAPI's shape, as the original cookie JWT API answers: `{"detail": "..."}`.
COOKIE_JWT_ERRORS = ErrorDocs(
    {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}},
    "CookieJwtError",
    documented_statuses(COOKIE_JWT_ERROR_TABLE, DECIDED_STATUSES),
)


def endpoints(views: CookieJwtViews) -> list[Endpoint]:
    """Every path of the dialect (the cookie JWT API). Each handler authenticates itself."""
    return [
        Endpoint(
            "/login/",
            {
                "POST": Operation(
                    views.login,
                    "Log in by email: an access and a refresh token (also as cookies), the role",
                    public=True,
                    request=s.CookieJwtLoginIn,
                    response=s.CookieJwtLoginOut,
                )
            },
            public=True,
        ),
        Endpoint(
            "/refresh/",
            {
                "POST": Operation(
                    views.refresh,
                    "Rotate both tokens; a refresh token works once",
                    public=True,
                    request=s.CookieJwtRefreshIn,
                    response=s.CookieJwtRefreshOut,
                )
            },
            public=True,
        ),
        Endpoint(
            "/logout/",
            {
                "POST": Operation(
                    views.logout,
                    "Clear the token cookies and end the user's JWTs",
                    public=True,
                    optional_credentials=True,
                    response=s.CookieJwtDetailOut,
                )
            },
            public=True,
        ),
        Endpoint(
            "/test/",
            {
                "GET": Operation(
                    views.public_test, "Public test", public=True, response=s.CookieJwtMessageOut
                ),
            },
            public=True,
        ),
        Endpoint(
            "/secure_test/",
            {
                "GET": Operation(
                    views.secure_test,
                    "Test with an access token",
                    response=s.CookieJwtMessageOut,
                    answer_of=views.secure_test_answer,
                )
            },
        ),
        Endpoint(
            "/test_role/",
            {
                "GET": Operation(
                    views.role_test, "Test for the ADMIN role", response=s.CookieJwtMessageOut
                )
            },
        ),
    ]


def build(core: Core, prefixes: tuple[str, ...]) -> Dialect:
    """The /u/api/ dialect, to be mounted at each of `prefixes`."""
    views = CookieJwtViews(core)
    table = endpoints(views)
    routes = every_method_routes(
        table, lambda e: endpoint_view(e, views.error_response, head_as_get=True)
    )
    not_found = http_exception_handler(views.error_response)
    fast = lane_handlers(views, prefixes, table)
    return Dialect(
        "cookie_jwt", prefixes, routes, not_found, fast, table, views.security, COOKIE_JWT_ERRORS
    )
