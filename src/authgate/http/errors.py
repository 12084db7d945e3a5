"""Failures found while reading an HTTP request, before the core is asked anything.

Like the core's errors they carry a code and parameters, and each dialect words them.
"""

from __future__ import annotations

from collections.abc import Mapping

from authgate.core.errors import Message


class RequestError(Exception):
    """Base of the errors of reading a request."""

    code = "bad_request"

    def __init__(self, **params: object) -> None:
        super().__init__(self.code)
        self.params: Mapping[str, object] = params


class NotAuthenticatedError(RequestError):
    """The endpoint needs credentials and none were given."""

    code = "not_authenticated"


class MalformedCredentialsError(RequestError):
    """An Authorization header of our scheme that cannot be read; `code` says how."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code


class MethodNotAllowedError(RequestError):
    """The path exists but not for this method (params: method, allowed)."""

    code = "method_not_allowed"


class NotAcceptableError(RequestError):
    """The Accept header names no media type the dialect can answer in."""

    code = "not_acceptable"


class UnsupportedMediaTypeError(RequestError):
    """A body in a content type no dialect parses (params: media_type)."""

    code = "unsupported_media_type"


class MalformedBodyError(RequestError):
    """A body that does not parse as its content type says (params: kind, reason)."""

    code = "parse_error"


class PathNotFoundError(RequestError):
    """No route for this path."""

    code = "not_found"


class PayloadTooLargeError(RequestError):
    """A body over the configured limit (params: max_bytes); raised while it is read, before
    any of it is parsed."""

    code = "payload_too_large"


class FieldTooLongError(RequestError):
    """A field longer than its limit (params: field, max_length), refused before the core
    sees it (a password before it is hashed)."""

    code = "field_too_long"


class InvalidTextError(RequestError):
    """A text field holding what no store can hold, NUL or a lone surrogate (params: field),
    refused before the core sees it; `problem` says which, as core/text.py words it."""

    code = "invalid_characters"

    def __init__(self, *, field: str, problem: Message) -> None:
        super().__init__(field=field)
        self.problem = problem
