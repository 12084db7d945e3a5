"""Request bodies as JSON, urlencoded or multipart forms; anything else is refused."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from authgate.http.errors import MalformedBodyError, UnsupportedMediaTypeError

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse_constant(name: str) -> float:
    # NaN and Infinity are not JSON, whatever Python's json module accepts.
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


async def read_body(request: Request) -> Any:
    """The request's body as Python data; {} when there is none.

    Raises UnsupportedMediaTypeError or MalformedBodyError; a form field given twice keeps its
    last value, as Django's QueryDict does.
    """
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body and not media_type:
        return {}
    if media_type == "application/json" or media_type.endswith("+json"):
        if not body:
            return {}
        try:
            return json.loads(body, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise MalformedBodyError(kind="json", reason=str(error)) from error
    if media_type in FORM_TYPES:
        try:
            form = await request.form()
        except (ValueError, UnicodeDecodeError, AssertionError) as error:
            raise MalformedBodyError(kind="form", reason=str(error)) from error
        return {
            key: value for key, value in form.multi_items() if not isinstance(value, UploadFile)
        }
    raise UnsupportedMediaTypeError(media_type=content_type)
