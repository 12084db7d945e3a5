"""The envelope dialect's table of paths, and the routes built from it."""

from __future__ import annotations

from authgate.core import Core
from authgate.dialects.base import Dialect, ErrorDocs
from authgate.dialects.dispatch import endpoint_view, every_method_routes, http_exception_handler
from authgate.dialects.endpoints import Endpoint, Operation
from authgate.dialects.envelope import schemas as s
from authgate.dialects.envelope.views import DECIDED_STATUSES, ENVELOPE_ERROR_TABLE, EnvelopeViews
from authgate.dialects.errors import documented_statuses
from authgate.dialects.lane import lane_handlers

# Every answer, failures included, is the envelope: a result, and data (empty on failures).
ENVELOPE_ERRORS = ErrorDocs(
    {
        "type": "object",
        "required": ["result", "data"],
        "properties": {
            "result": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
            },
            "data": {"type": "object"},
        },
    },
    "EnvelopeError",
    documented_statuses(ENVELOPE_ERROR_TABLE, DECIDED_STATUSES),
)


def endpoints(views: EnvelopeViews) -> list[Endpoint]:
    """Every path of the dialect (the envelope API): three POSTs."""
    return [
        Endpoint(
            "/login/",
            {
                "POST": Operation(
                    views.login,
                    "Log in: a new token, the user's name and role",
                    public=True,
                    request=s.LoginIn,
                    response=s.LoginOut,
                )
            },
            public=True,
        ),
        Endpoint(
            "/logout/",
            {
                "POST": Operation(
                    views.logout,
                    "Log out: revoke the presented token, if any (always 200)",
                    public=True,
                    optional_credentials=True,
                    response=s.EmptyOut,
                )
            },
            public=True,
        ),
        Endpoint(
            "/check_token/",
            {
                "POST": Operation(
                    views.check_token,
                    "Does the presented token belong to this username?",
                    request=s.CheckTokenIn,
                    response=s.CheckTokenOut,
                    answer_of=views.token_check,
                )
            },
        ),
    ]


def build(core: Core, prefixes: tuple[str, ...]) -> Dialect:
    """The envelope dialect, to be mounted at each of `prefixes`."""
    views = EnvelopeViews(core)
    table = endpoints(views)
    routes = every_method_routes(
        table, lambda e: endpoint_view(e, views.error_response, head_as_get=False)
    )
    not_found = http_exception_handler(views.error_response)
    fast = lane_handlers(views, prefixes, table)
    return Dialect(
        "envelope", prefixes, routes, not_found, fast, table, views.security, ENVELOPE_ERRORS
    )
