"""Pydantic field types that validate as DRF's serializer fields do, with DRF's error codes.

A DRF CharField refuses null, non-scalars and blanks first (one error, then it stops); a value
past those runs through every validator of the field and gets all their errors at once, in
the field's order: the model field's own (username format), max length, null characters,
surrogates, and an EmailField's address check last. NUL and lone surrogates are what no store
can hold (core/text.py): every text type here refuses them, passwords and tokens included.
An IntegerField refuses what int() cannot read, then a value outside the database's BIGINT.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ValidationError as PydanticValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from authgate.constants import EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH
from authgate.core.errors import NON_FIELD, Message, ValidationError
from authgate.core.identity import mixes_scripts
from authgate.core.text import BIGINT_MAX, BIGINT_MIN, integer_problem, text_problems

M = TypeVar("M", bound=BaseModel)
Check = Callable[[str], Message | list[Message] | None]

# Django's UnicodeUsernameValidator, applied as Django does: to the value as sent.
_USERNAME = re.compile(r"^[\w.@+-]+\Z")
# Django's EmailValidator (django/core/validators.py): dot-atom or quoted local part; a host
# name with a TLD, "localhost", or an IP literal.
_UNICODE_LETTERS = "\u00a1-\uffff"
_HOSTNAME = (
    rf"[a-z{_UNICODE_LETTERS}0-9](?:[a-z{_UNICODE_LETTERS}0-9-]{{0,61}}[a-z{_UNICODE_LETTERS}0-9])?"
)
_DOMAIN = rf"(?:\.(?!-)[a-z{_UNICODE_LETTERS}0-9-]{{1,63}}(?<!-))*"
_TLD = rf"\.(?!-)(?:[a-z{_UNICODE_LETTERS}-]{{2,63}}|xn--[a-z0-9]{{1,59}})(?<!-)"
_EMAIL_USER = re.compile(
    r"(^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\Z"
    r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z)',
    re.IGNORECASE,
)
_EMAIL_DOMAIN = re.compile(rf"^{_HOSTNAME}{_DOMAIN}{_TLD}\Z", re.IGNORECASE)
_EMAIL_LITERAL = re.compile(r"\[([A-F0-9:.]+)\]\Z", re.IGNORECASE)
_EMAIL_MAX_LENGTH = 320  # RFC 3696 section 3, as Django checks it
# DRF's IntegerField: text longer than this is refused unread; `5.0` reads as 5.
_MAX_STRING_LENGTH = 1000
_DECIMAL_ZEROS = re.compile(r"\.0*\s*$")
_IPV6_MAX_LENGTH = 39


def _char(value: object) -> str:
    """DRF's CharField: refuse null and non-scalars, accept numbers as text, trim whitespace."""
    if value is None:
        raise PydanticCustomError("null", "null")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError("invalid_string", "invalid_string")
    return str(value).strip()


def as_text(value: object) -> str | None:
    """`value` as a text field reads it (trimmed; numbers as text), or None if it is no text."""
    try:
        return _char(value)
    except PydanticCustomError:
        return None


def _not_blank(value: str) -> str:
    if not value:
        raise PydanticCustomError("blank", "blank")
    return value


def _validators(*checks: Check) -> AfterValidator:
    """Run every check and report all their messages together, as DRF's run_validators does.
    A blank value is not checked (DRF returns it before its validators run)."""

    def run(value: str | None) -> str | None:
        if not value:
            return value
        messages: list[Message] = []
        for check in checks:
            found = check(value)
            if isinstance(found, Message):
                messages.append(found)
            elif found:
                messages += found
        if messages:
            raise PydanticCustomError("validators", "validators", {"messages": tuple(messages)})
        return value

    return AfterValidator(run)


def _at_most(limit: int) -> Check:
    def check(value: str) -> Message | None:
        return Message("max_length", {"max_length": limit}) if len(value) > limit else None

    return check


def _username(value: str) -> Message | None:
    if not _USERNAME.match(value) or mixes_scripts(value):
        return Message("invalid_username")
    return None


def _email(value: str) -> Message | None:
    if not is_django_email(value) or any(mixes_scripts(label) for label in value.split(".")):
        # A domain label mixing scripts (`exаmple` with a Cyrillic а) imitates another's.
        return Message("invalid_email")
    if any(unicodedata.category(character) == "Cc" for character in value):
        # Django's quoted local part takes control characters (RFC 5322's obsolete syntax);
        # SMTP does not (RFC 5321 4.1.2), and an ESC in an address printed by `authgate
        # users list` would drive the staff member's terminal.
        return Message("invalid_email")
    return None


def is_django_email(value: str) -> bool:
    """Whether Django's EmailValidator accepts `value`."""
    if "@" not in value or len(value) > _EMAIL_MAX_LENGTH:
        return False
    user, domain = value.rsplit("@", 1)
    if not _EMAIL_USER.match(user):
        return False
    if domain == "localhost" or _EMAIL_DOMAIN.match(domain):
        return True
    literal = _EMAIL_LITERAL.match(domain)
    return literal is not None and _is_ip_address(literal[1])


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        if len(text) > _IPV6_MAX_LENGTH:
            return False
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            return False
    return True


_PLAIN = (text_problems,)

# Every type runs _char first, so an explicit null is refused even where the field is optional
# (its Python default of None means "not given").
Text = Annotated[str, BeforeValidator(_char), AfterValidator(_not_blank), _validators(*_PLAIN)]
"""A non-blank, trimmed string (a CharField)."""
OptionalText = Annotated[
    str | None, BeforeValidator(_char), AfterValidator(_not_blank), _validators(*_PLAIN)
]
"""A CharField(required=False)."""
Password = Annotated[
    str,
    BeforeValidator(_char),
    AfterValidator(_not_blank),
    _validators(_at_most(PASSWORD_MAX_LENGTH), *_PLAIN),
]
"""A password field: a CharField(max_length=4096), so an oversized password is refused with
DRF's max_length error before it is hashed (Django itself sets no limit)."""
OptionalPassword = Annotated[
    str | None,
    BeforeValidator(_char),
    AfterValidator(_not_blank),
    _validators(_at_most(PASSWORD_MAX_LENGTH), *_PLAIN),
]
"""A Password that may be left out."""
Username = Annotated[
    str,
    BeforeValidator(_char),
    AfterValidator(_not_blank),
    _validators(_username, _at_most(USERNAME_MAX_LENGTH), *_PLAIN),
]
"""Django's User.username as a ModelSerializer field (its uniqueness is checked apart)."""
Email = Annotated[
    str, BeforeValidator(_char), AfterValidator(_not_blank), _validators(*_PLAIN, _email)
]
"""A required, valid email address: a plain EmailField, with no length limit but Django's."""
BlankableEmail = Annotated[
    str | None,
    BeforeValidator(_char),
    _validators(_at_most(EMAIL_MAX_LENGTH), *_PLAIN, _email),
]
"""User.email as a ModelSerializer field: a valid address or "" (Django's is optional)."""


def _integer(value: object) -> int:
    """DRF's IntegerField: an int, or text int() reads (a trailing `.0` allowed)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("int_parsing", "int_parsing")
    if isinstance(value, int):
        return value
    text = str(value)
    if len(text) > _MAX_STRING_LENGTH:
        raise PydanticCustomError("int_parsing", "int_parsing")
    try:
        return int(_DECIMAL_ZEROS.sub("", text))
    except ValueError:
        raise PydanticCustomError("int_parsing", "int_parsing") from None


def _bigint(value: int | None) -> int | None:
    """Refuse an integer no database column holds, with DRF's max_value/min_value words."""
    problem = integer_problem(value) if value is not None else None
    if problem is not None:
        raise PydanticCustomError("validators", "validators", {"messages": (problem,)})
    return value


OptionalInteger = Annotated[
    int | None,
    BeforeValidator(_integer),
    AfterValidator(_bigint),
    WithJsonSchema({"type": "integer", "minimum": BIGINT_MIN, "maximum": BIGINT_MAX}),
]
"""An IntegerField(required=False) bounded to a signed 64-bit column (a query filter's id)."""

_CODES = {
    "missing": "required",
    "null": "null",
    "blank": "blank",
    "invalid_string": "invalid_string",
    "int_parsing": "invalid_integer",
    "int_type": "invalid_integer",
}


def parse(model: type[M], data: object) -> M:
    """Validate a request body against `model`, raising the core's ValidationError."""
    if data is None:
        # DRF words a `null` body apart from other non-objects (Serializer.errors).
        raise ValidationError.single(NON_FIELD, "no_data")
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
        context: dict[str, Any] = dict(item.get("ctx") or {})
        found = messages.setdefault(field, [])
        if item["type"] == "validators":
            found.extend(context["messages"])
        else:
            found.append(Message(_CODES.get(item["type"], "invalid")))
    return messages
