"""`towns: [id, ...]` in a request body (registration and users/me/ take towns), an id list
(dialects/pk_lists.py) beside the other fields of a serializer. Shared by the Djoser dialect,
which takes it, and the directory dialect, which owns towns; it lives beside both so that
neither imports the other's package.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from authgate.core import Core
from authgate.core.towns import TOWNS_FIELD
from authgate.dialects.pk_lists import PkList, parse_with_lists

B = TypeVar("B", bound=BaseModel)
TownIds = PkList
"""The field as a model declares it (its value is read apart)."""


async def parse_with_towns(
    core: Core, request: Request, model: type[B], parsing: Awaitable[B]
) -> tuple[B, list[int] | None]:
    """The body as `parsing` (a dialect's parse_body) reads it, and its towns (None when not
    sent), their errors reported together in the model's field order."""
    parsed, lists = await parse_with_lists(
        request, model, parsing, {TOWNS_FIELD: core.directory.towns.check_ids}
    )
    return parsed, lists.get(TOWNS_FIELD)
