"""`towns: [id, ...]` in a request body (seed 004: registration and users/me/), read as DRF's
ManyRelatedField over a PrimaryKeyRelatedField reads it, beside the other fields of a
serializer. Shared by the Djoser dialect, which takes it, and the records dialect, which owns
towns; it lives beside both so that neither imports the other's package.

DRF walks the list and stops at the first bad item: an item that is no pk, or a pk of no
town. So its single error names whichever comes first, which this reading keeps.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, TypeVar

from pydantic import BaseModel, WithJsonSchema
from starlette.requests import Request

from authgate.core import Core
from authgate.core.errors import Message, ValidationError
from authgate.core.towns import TOWNS_FIELD
from authgate.http.parsing import MULTIPART_TYPE, URLENCODED_TYPE, read_body

B = TypeVar("B", bound=BaseModel)
TownIds = Annotated[object, WithJsonSchema({"type": "array", "items": {"type": "integer"}})]
"""The field as a model declares it: only for the OpenAPI document, since its value is read
apart, with raw_towns and town_ids below (a form's repeated keys are lost in a model's)."""
_FORM_TYPES = (URLENCODED_TYPE, MULTIPART_TYPE)


class _Missing:
    """The field was not sent."""


MISSING = _Missing()


async def raw_towns(request: Request) -> object:
    """The `towns` value as sent, or MISSING. A form gives every value of a repeated key
    (`towns=1&towns=2`), as DRF's getlist does."""
    data = await read_body(request)
    if not isinstance(data, dict) or TOWNS_FIELD not in data:
        return MISSING
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if tuple(media_type.split("/", 1)) in _FORM_TYPES:
        form = await request.form()  # Starlette keeps the form read_body parsed
        return form.getlist(TOWNS_FIELD)
    return data[TOWNS_FIELD]


def _pk(item: object) -> int | Message:
    """One item as a pk, or the error DRF's PrimaryKeyRelatedField words for it (Django
    reads a pk with int(), so "5" and 5.0 are pk 5)."""
    if isinstance(item, bool) or not isinstance(item, int | float | str):
        return Message("pk_incorrect_type", {"data_type": type(item).__name__})
    if isinstance(item, float) and not item.is_integer():
        return Message("pk_incorrect_type", {"data_type": "float"})
    try:
        return int(item)
    except (ValueError, OverflowError):
        return Message("pk_incorrect_type", {"data_type": type(item).__name__})


async def town_ids(core: Core, raw: object) -> list[int]:
    """The town ids of a `towns` value; ValidationError under `towns` as DRF words it."""
    if raw is None:
        raise ValidationError.single(TOWNS_FIELD, "null")
    if isinstance(raw, str) or not isinstance(raw, list | dict):
        raise ValidationError.single(TOWNS_FIELD, "not_a_list", input_type=type(raw).__name__)
    ids: list[int] = []
    for item in raw:  # a dict is walked by its keys, as DRF does
        pk = _pk(item)
        if isinstance(pk, Message):
            await core.records.towns.check_ids(ids)  # a missing town before it comes first
            raise ValidationError({TOWNS_FIELD: [pk]})
        ids.append(pk)
    await core.records.towns.check_ids(ids)
    return ids


async def parse_with_towns(
    core: Core, request: Request, model: type[B], parsing: Awaitable[B]
) -> tuple[B, list[int] | None]:
    """The body as `parsing` (a dialect's parse_body) reads it, and its towns (None when not
    sent), their errors reported together in the model's field order."""
    errors: dict[str, list[Message]] = {}
    parsed: B | None = None
    try:
        parsed = await parsing
    except ValidationError as error:
        errors = dict(error.errors)
    towns: list[int] | None = None
    raw = await raw_towns(request)
    if raw is not MISSING:
        try:
            towns = await town_ids(core, raw)
        except ValidationError as error:
            errors |= error.errors
    if errors or parsed is None:
        order = list(model.model_fields)
        ranked = sorted(
            errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
        )
        raise ValidationError(dict(ranked))
    return parsed, towns
