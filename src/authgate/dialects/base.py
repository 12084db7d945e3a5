"""What the app needs of every dialect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette

from authgate.dialects.drf.errors import DRF_ERROR_TABLE
from authgate.dialects.endpoints import Endpoint
from authgate.dialects.errors import documented_statuses
from authgate.dialects.security_schemes import SecurityScheme
from authgate.http.fast_lane import FastHandler


@dataclass(frozen=True, slots=True)
class ErrorDocs:
    """How a dialect's failures look, for the OpenAPI document: the JSON schema of an error
    body, its name among the document's schemas (one model in a generated client, not one per
    operation and status), and every error status its operations may answer (derived from
    its table of errors, dialects/errors.py)."""

    schema: dict[str, Any]
    name: str
    statuses: frozenset[int]


# DRF's shapes: `{"detail": "..."}`, or field -> messages (`non_field_errors` for the rest).
DRF_ERRORS = ErrorDocs(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {}},
                {"type": "object"},
            ]
        },
    },
    "DrfError",
    documented_statuses(DRF_ERROR_TABLE),
)


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the app needs of a dialect: an app per prefix, its fast-lane handlers, and its
    endpoints for the OpenAPI document, with the schemes its endpoints that are not public
    take (any one of them): those of its DrfViews, or of the views that authenticate in
    their handlers."""

    name: str
    prefixes: tuple[str, ...]
    app: Starlette
    fast_handlers: dict[tuple[str, str], FastHandler]
    endpoints: list[Endpoint]
    security: tuple[SecurityScheme, ...]
    errors: ErrorDocs = field(default=DRF_ERRORS)
