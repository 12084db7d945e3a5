"""What the app needs of every dialect."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette

from authgate.dialects.drf import Endpoint
from authgate.http.fast_lane import FastHandler


@dataclass(frozen=True, slots=True)
class Dialect:
    """What the app needs of a dialect: an app per prefix, its fast-lane handlers, and its
    endpoints for the OpenAPI document."""

    name: str
    prefixes: tuple[str, ...]
    app: Starlette
    fast_handlers: dict[tuple[str, str], FastHandler]
    endpoints: list[Endpoint]
