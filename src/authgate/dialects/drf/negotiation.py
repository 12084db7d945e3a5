"""DRF's content negotiation and rendering: which Accept headers it answers, how it lists a
view's methods in `Allow`, what it varies on, and its compact JSON."""

from __future__ import annotations

import orjson
from starlette.responses import JSONResponse, Response

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
