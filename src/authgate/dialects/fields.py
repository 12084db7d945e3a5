"""Pydantic field types that validate as DRF's serializer fields do, with DRF's error codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ValidationError as PydanticValidationError,
)
from pydantic_core import PydanticCustomError

from authgate.constants import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, USERNAME_MAX_LENGTH
from authgate.core.errors import NON_FIELD, Message, ValidationError

M = TypeVar("M", bound=BaseModel)


def _char(value: object) -> str:
    """DRF's CharField: refuse null and non-scalars, accept numbers as text, trim whitespace."""
    if value is None:
        raise PydanticCustomError("null", "null")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError("invalid_string", "invalid_string")
    return str(value).strip()


def _not_blank(value: str) -> str:
    if not value:
        raise PydanticCustomError("blank", "blank")
    return value


def _at_most(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > limit:
            raise PydanticCustomError("string_too_long", "too long", {"max_length": limit})
        return value

    return check


def _email_or_blank(value: str) -> str:
    if value:
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as error:
            raise PydanticCustomError("invalid_email", "invalid_email") from error
    return value


# Every type runs _char first, so an explicit null is refused even where the field is optional
# (its Python default of None means "not given").
Text = Annotated[str, BeforeValidator(_char), AfterValidator(_not_blank)]
"""A non-blank, trimmed string."""
OptionalText = Annotated[str | None, BeforeValidator(_char), AfterValidator(_not_blank)]
Username = Annotated[
    str,
    BeforeValidator(_char),
    AfterValidator(_not_blank),
    AfterValidator(_at_most(USERNAME_MAX_LENGTH)),
]
Name = Annotated[str | None, BeforeValidator(_char), AfterValidator(_at_most(NAME_MAX_LENGTH))]
Email = Annotated[
    str,
    BeforeValidator(_char),
    AfterValidator(_not_blank),
    AfterValidator(_at_most(EMAIL_MAX_LENGTH)),
    AfterValidator(_email_or_blank),
]
"""A required, valid email address."""
BlankableEmail = Annotated[
    str | None,
    BeforeValidator(_char),
    AfterValidator(_at_most(EMAIL_MAX_LENGTH)),
    AfterValidator(_email_or_blank),
]
"""A valid email address or "" (Django's User.email is optional)."""

_CODES = {
    "missing": "required",
    "null": "null",
    "blank": "blank",
    "string_too_long": "max_length",
    "invalid_email": "invalid_email",
    "invalid_string": "invalid_string",
    "int_parsing": "invalid_integer",
    "int_type": "invalid_integer",
}


def parse(model: type[M], data: object) -> M:
    """Validate a request body against `model`, raising the core's ValidationError."""
    if not isinstance(data, Mapping):
        raise ValidationError.single(NON_FIELD, "not_a_dict", datatype=type(data).__name__)
    try:
        return model.model_validate(data)
    except PydanticValidationError as error:
        raise ValidationError(field_messages(error)) from error


def field_messages(error: PydanticValidationError) -> dict[str, list[Message]]:
    """Pydantic's errors as DRF's codes, per field, in the model's field order."""
    messages: dict[str, list[Message]] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else NON_FIELD
        code = _CODES.get(item["type"], "invalid")
        context: dict[str, Any] = dict(item.get("ctx") or {})
        params = {"max_length": context["max_length"]} if code == "max_length" else {}
        messages.setdefault(field, []).append(Message(code, params))
    return messages
