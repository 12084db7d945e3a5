"""Request bodies as JSON, urlencoded or multipart forms; anything else is refused.

Which parser reads a body, and how it fails, follows DRF (JSONParser, FormParser,
MultiPartParser over Django's request): the same bodies parse, and the same ones fail.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.exceptions import HTTPException
from starlette.requests import Request

from authgate.core.text import text_problems
from authgate.http.errors import (
    FieldTooLongError,
    InvalidTextError,
    MalformedBodyError,
    UnsupportedMediaTypeError,
)

JSON_TYPE = ("application", "json")
URLENCODED_TYPE = ("application", "x-www-form-urlencoded")
MULTIPART_TYPE = ("multipart", "form-data")
# DRF's parsers, in the order it tries them.
PARSED_TYPES = (JSON_TYPE, URLENCODED_TYPE, MULTIPART_TYPE)
# Django's MultiPartParser refuses any other boundary.
MULTIPART_BOUNDARY = re.compile(r"[ -~]{0,200}[!-~]")
# No request of any dialect nests deeper than 2; a deep document only costs parsing and
# recursion further on, so past this it is refused as unparsable (security.md F2).
MAX_JSON_DEPTH = 32
DEPTH_EXCEEDED = "Maximum nesting depth exceeded"


def _refuse_constant(name: str) -> float:
    # NaN and Infinity are not JSON, whatever Python's json module accepts.
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _media_type(content_type: str) -> tuple[tuple[str, str], dict[str, str]]:
    """(main type, subtype) and parameters of a Content-Type, lowercased as Django does."""
    kind, *raw_params = content_type.split(";")
    main, _, sub = kind.strip().lower().partition("/")
    params = {}
    for raw in raw_params:
        name, _, value = raw.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return (main, sub), params


def _parser_for(media_type: tuple[str, str]) -> tuple[str, str] | None:
    """The first of DRF's parsers whose media type the request's matches (a `*` in the
    request's type matches any, as DRF's media_type_matches has it)."""
    main, sub = media_type
    for parsed_main, parsed_sub in PARSED_TYPES:
        if main in ("*", parsed_main) and sub in ("*", parsed_sub):
            return parsed_main, parsed_sub
    return None


def _charset(params: dict[str, str]) -> str:
    """The body's charset: the Content-Type's when Python knows it, else UTF-8 (Django)."""
    charset = params.get("charset", "")
    try:
        codecs.lookup(charset)
    except LookupError:
        return "utf-8"
    return charset


async def read_body(request: Request, *, limits: Mapping[str, int | None] | None = None) -> Any:
    """The request's body as Python data; {} when there is none, whatever its type (DRF reads
    no body of Content-Length 0).

    Raises UnsupportedMediaTypeError or MalformedBodyError (and PayloadTooLargeError from
    http/limits.py while reading). A form field given twice keeps its last value, as Django's
    QueryDict does; a file field stays an upload, which no text field accepts.

    A form that is not UTF-8 is refused (MalformedBodyError), where Django reads it with
    replacement characters and Starlette as Latin-1: either way two different byte strings
    would make one name. `limits` names the text fields a view reads itself (the DRF dialects'
    field types check theirs, dialects/fields.py), each with its longest length or None: such
    a field holding NUL or a lone surrogate (InvalidTextError, core/text.py) or longer than its
    limit (FieldTooLongError) is refused before any handler sees it.
    """
    data = await _read(request)
    if limits and isinstance(data, dict):
        for name, limit in limits.items():
            value = data.get(name)
            if not isinstance(value, str):
                continue
            if problems := text_problems(value):
                raise InvalidTextError(field=name, problem=problems[0])
            if limit is not None and len(value) > limit:
                raise FieldTooLongError(field=name, max_length=limit)
    return data


async def _read(request: Request) -> Any:
    body = await request.body()
    if not body:
        return {}
    content_type = request.headers.get("content-type", "")
    media_type, params = _media_type(content_type)
    parser = _parser_for(media_type)
    if parser is None:
        raise UnsupportedMediaTypeError(media_type=content_type)
    if parser == JSON_TYPE:
        return _json(body, _charset(params))
    _require_utf8_form(body, multipart=parser == MULTIPART_TYPE)
    if parser == MULTIPART_TYPE:
        boundary = params.get("boundary")
        if not boundary or not MULTIPART_BOUNDARY.fullmatch(boundary):
            raise MalformedBodyError(
                kind="form", reason=f"Invalid boundary in multipart: {boundary}"
            )
    try:
        async with request.form() as form:  # closes uploaded files' temporary storage
            return dict(form.multi_items())
    except (HTTPException, ValueError, UnicodeDecodeError, AssertionError):
        # Django's parser reads what it can of a broken form and never fails past the
        # boundary check: so is a form that does not parse an empty one.
        return {}


def _json(body: bytes, charset: str) -> Any:
    """DRF's JSONParser: decode strictly in the request's charset (a BOM or UTF-16 body is no
    UTF-8 JSON), then parse, refusing NaN and Infinity."""
    try:
        data = json.loads(body.decode(charset), parse_constant=_refuse_constant)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise MalformedBodyError(kind="json", reason=str(error)) from error
    except RecursionError as error:
        # DRF lets this one through as a 500; deep nesting is a bad body like any other.
        raise MalformedBodyError(kind="json", reason=DEPTH_EXCEEDED) from error
    if isinstance(data, dict | list) and _deeper_than(data, MAX_JSON_DEPTH):
        raise MalformedBodyError(kind="json", reason=DEPTH_EXCEEDED)
    return data


def _deeper_than(data: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether containers nest more than `limit` deep (`{}` is 1), walked without recursion."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(data, 1)]
    while stack:
        container, depth = stack.pop()
        if depth > limit:
            return True
        children = container.values() if isinstance(container, dict) else container
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


async def require_utf8_form(request: Request) -> None:
    """For a view that reads its form itself (the admin's): refuse a form that is not UTF-8
    (MalformedBodyError), as read_body does. Starlette keeps the body for `request.form()`."""
    media_type, _ = _media_type(request.headers.get("content-type", ""))
    if media_type in (URLENCODED_TYPE, MULTIPART_TYPE):
        _require_utf8_form(await request.body(), multipart=media_type == MULTIPART_TYPE)


def _require_utf8_form(body: bytes, *, multipart: bool) -> None:
    """Refuse a form whose text is not UTF-8, raw or percent-escaped (Starlette, like Django,
    would read it with U+FFFD in place of each bad byte, so distinct inputs would compare
    equal)."""
    text = body if multipart else unquote_to_bytes(body.replace(b"+", b" "))
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedBodyError(kind="form", reason="the body is not valid UTF-8") from error
