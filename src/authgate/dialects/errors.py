"""One way from an error to a dialect's answer.

Each dialect supplies its table (error class -> `Answer`: status and message code) and its
body shape (a function from a `Failure` to the response). The renderer looks the error up
along its class hierarchy, nearest class first, so a subclass answers as its parent unless
the table names it too, and adds what every dialect adds alike:

- a failure the dialect decided itself (`DialectError`) brings its own status and code;
- a database driver's outage that reaches it raw (the store translates its own into the
  core's UnavailableError) answers as UnavailableError;
- a 401 asks for a token (`WWW-Authenticate`), except a login's wrong credentials; a dialect
  whose first scheme has no challenge (DRF's session) answers 403 instead;
- `Retry-After` on a throttled answer, `Allow` on a 405;
- an error no table knows is a bug: re-raised (Starlette's logged 500), or answered 500 in
  the dialect's shape with the traceback logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.responses import Response

from authgate.core.errors import ThrottledError, UnavailableError
from authgate.http.errors import (
    FieldTooLongError,
    InvalidTextError,
    MalformedBodyError,
    MethodNotAllowedError,
    PathNotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from authgate.http.i18n import seconds
from authgate.store.unavailable import is_unavailable

log = logging.getLogger(__name__)

INVALID_CREDENTIALS = "invalid_credentials"
SERVER_ERROR = "server_error"
# Statuses that may answer any operation, which the OpenAPI document leaves out: a method the
# path does not take, an Accept header no renderer matches, the database away.
UNDOCUMENTED = frozenset({405, 406, 503})


@dataclass(frozen=True, slots=True)
class Answer:
    """How a dialect answers one class of errors: the status, and the message code (None: the
    error's own `code`)."""

    status: int
    code: str | None = None


ErrorTable = Mapping[type[BaseException], Answer]
"""A dialect's answers, by error class; looked up along the error's MRO."""
OUTAGE = Answer(503, UnavailableError.code)
"""What every dialect answers while the database or Redis is away (DRF's ServiceUnavailable)."""
COMMON_ERRORS: ErrorTable = {
    MalformedBodyError: Answer(400),
    FieldTooLongError: Answer(400),
    InvalidTextError: Answer(400),
    PathNotFoundError: Answer(404),
    MethodNotAllowedError: Answer(405),
    PayloadTooLargeError: Answer(413),
    UnsupportedMediaTypeError: Answer(415),
    ThrottledError: Answer(429),
    UnavailableError: OUTAGE,
}
"""What every dialect answers alike, each in its own words for the error's own code: a body it
cannot read, no such path or method, throttling, an outage. Each table starts from it."""


class DialectError(Exception):
    """A failure a dialect decides itself (a missing field, a cross-site login, a username that
    does not match the token): the status, message code and parameters it answers."""

    def __init__(self, status: int, code: str, params: Mapping[str, object] | None = None):
        super().__init__(code)
        self.status = status
        self.code = code
        self.params = params

    @classmethod
    def of(cls, table: ErrorTable, error: Exception) -> DialectError:
        """What a handler's own table makes of a core failure (one the handler answers
        otherwise than its dialect's table would); re-raises one the table does not name."""
        answer = nearest(table, error)
        if answer is None:
            raise error
        return cls(answer.status, answer.code or str(getattr(error, "code", "")))


@dataclass(frozen=True, slots=True)
class Failure:
    """What an error comes to in a dialect, before its body shape words it."""

    error: BaseException
    status: int
    code: str
    params: Mapping[str, object] | None
    headers: dict[str, str]


Shape = Callable[[Failure, str], Response]
"""A dialect's body shape: the response for a failure, in a language."""


def nearest(table: ErrorTable, error: BaseException) -> Answer | None:
    """The table's answer for the nearest class of `error` (its own first), None if none."""
    for cls in type(error).__mro__:
        answer = table.get(cls)
        if answer is not None:
            return answer
    return None


def documented_statuses(table: ErrorTable, decided: frozenset[int] = frozenset()) -> frozenset[int]:
    """The error statuses a dialect's operations may answer, for the OpenAPI document: its
    table's and those its handlers decide (`DialectError`), less UNDOCUMENTED."""
    return frozenset({answer.status for answer in table.values()} | decided) - UNDOCUMENTED


class ErrorRenderer:
    """A dialect's table and body shape, applied. `challenge`: the `WWW-Authenticate` of a 401
    (None: 403 instead). `dialect`: the name a bug's 500 is logged under; None re-raises it."""

    def __init__(
        self,
        table: ErrorTable,
        shape: Shape,
        *,
        challenge: str | None,
        dialect: str | None = None,
    ) -> None:
        self._table = table
        self._shape = shape
        self._challenge = challenge
        self._dialect = dialect

    def failure(self, error: BaseException, language: str) -> Failure | None:
        """What `error` comes to; None when neither the table nor an outage explains it."""
        params: Mapping[str, object] | None
        if isinstance(error, DialectError):
            status, code, params = error.status, error.code, error.params
        else:
            answer = nearest(self._table, error)
            params = getattr(error, "params", None)
            if answer is None and is_unavailable(error):
                answer, params = nearest(self._table, UnavailableError()), None
            if answer is None:
                return None
            if answer.code == UnavailableError.code:
                log.warning("the database is unreachable: %s", error)
            status = answer.status
            code = answer.code or str(getattr(error, "code", ""))
        headers: dict[str, str] = {}
        if isinstance(error, ThrottledError):
            wait = error.retry_after
            params = {"wait": wait, "seconds": seconds(wait, language)}
            headers["Retry-After"] = str(wait)
        if status == 401 and code != INVALID_CREDENTIALS:
            if self._challenge is None:
                status = 403  # DRF: a first scheme with no challenge cannot ask for one
            else:
                headers["WWW-Authenticate"] = self._challenge
        if isinstance(error, MethodNotAllowedError):
            headers["Allow"] = str(error.params.get("allowed", ""))
        return Failure(error, status, code, params, headers)

    def render(self, error: BaseException, language: str) -> Response:
        """The dialect's answer to `error`."""
        failure = self.failure(error, language)
        if failure is None:
            if self._dialect is None:
                raise error
            log.error("unexpected error in the %s dialect", self._dialect, exc_info=error)
            failure = Failure(error, 500, SERVER_ERROR, None, {})
        return self._shape(failure, language)
