"""Lists of ids in a request body (`towns`, `groups`, `user_permissions`, `permissions`), read
as DRF's ManyRelatedField over a PrimaryKeyRelatedField reads them, beside the other fields
of a serializer. Shared by the Djoser dialect (`towns`) and the directory dialect.

DRF walks the list and stops at the first bad item: an item that is no pk, or a pk of no
object. So its single error names whichever comes first, which this reading keeps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, WithJsonSchema
from starlette.requests import Request

from authgate.core.errors import Message, ValidationError
from authgate.http.parsing import MULTIPART_TYPE, URLENCODED_TYPE, read_body

B = TypeVar("B", bound=BaseModel)
IdCheck = Callable[[list[int]], Awaitable[None]]
"""Raises the core's ValidationError naming the first of the ids that names nothing."""


def _no_default(schema: dict[str, Any]) -> None:
    """A list field left out is unchanged (or empty, on creation); its model's `None` default
    only marks it optional, and is no value a client may send (null is refused)."""
    schema.pop("default", None)


PkList = Annotated[
    object,
    WithJsonSchema({"type": "array", "items": {"type": "integer"}}),
    Field(json_schema_extra=_no_default),
]
"""Such a field as a model declares it (`= None`: optional): only for the OpenAPI document,
since its value is read apart, with raw_list and pk_list below (a form's repeated keys are
lost in a model's)."""
_FORM_TYPES = (URLENCODED_TYPE, MULTIPART_TYPE)


class _Missing:
    """The field was not sent."""


MISSING = _Missing()


async def raw_list(request: Request, name: str) -> object:
    """The field's value as sent, or MISSING. A form gives every value of a repeated key
    (`towns=1&towns=2`), as DRF's getlist does."""
    data = await read_body(request)
    if not isinstance(data, dict) or name not in data:
        return MISSING
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if tuple(media_type.split("/", 1)) in _FORM_TYPES:
        form = await request.form()  # Starlette keeps the form read_body parsed
        return form.getlist(name)
    return data[name]


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


async def pk_list(raw: object, name: str, check: IdCheck) -> list[int]:
    """The ids of a list field's value; ValidationError under `name` as DRF words it."""
    if raw is None:
        raise ValidationError.single(name, "null")
    if isinstance(raw, str) or not isinstance(raw, list | dict):
        raise ValidationError.single(name, "not_a_list", input_type=type(raw).__name__)
    ids: list[int] = []
    for item in raw:  # a dict is walked by its keys, as DRF does
        pk = _pk(item)
        if isinstance(pk, Message):
            await check(ids)  # a missing object before it comes first
            raise ValidationError({name: [pk]})
        ids.append(pk)
    await check(ids)
    return ids


async def parse_with_lists(
    request: Request, model: type[B], parsing: Awaitable[B], lists: Mapping[str, IdCheck]
) -> tuple[B, dict[str, list[int]]]:
    """The body as `parsing` (a dialect's parse_body) reads it, and the id lists named in
    `lists` that were sent (each checked by its IdCheck), their errors reported together in
    the model's field order: nothing is acted on unless every field is good."""
    errors: dict[str, list[Message]] = {}
    parsed: B | None = None
    try:
        parsed = await parsing
    except ValidationError as error:
        errors = dict(error.errors)
    found: dict[str, list[int]] = {}
    for name, check in lists.items():
        raw = await raw_list(request, name)
        if raw is MISSING:
            continue
        try:
            found[name] = await pk_list(raw, name, check)
        except ValidationError as error:
            errors |= error.errors
    if errors or parsed is None:
        order = list(model.model_fields)
        ranked = sorted(
            errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
        )
        raise ValidationError(dict(ranked))
    return parsed, found
