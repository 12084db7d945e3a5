"""A dialect's one path of authentication: its schemes (dialects/schemes.py) tried in order;
the first that proves a principal wins, a scheme's failure ends the search (as in DRF), and a
request no scheme takes fails with the dialect's "not authenticated".

The fast lane (dialects/lane.py) authenticates a request before the app sees it. Its outcome,
the principal or the failure, is kept in the request's scope: when the lane declines, the full
view's authentication takes that outcome instead of reading and resolving the credentials a
second time, so each request is authenticated once, by the same code on either path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import Scope

from authgate.core.errors import AuthgateError, UnavailableError
from authgate.core.models import Principal
from authgate.dialects.errors import DialectError
from authgate.dialects.schemes import Scheme
from authgate.http.errors import NotAuthenticatedError, RequestError

# Where the lane leaves its outcome: (the authenticator, the principal or the failure).
OUTCOME = "authgate.authentication"
# The verdicts on credentials; anything else (a bug, the database away) the view meets afresh.
VERDICTS = (AuthgateError, RequestError, DialectError)


class Authenticator:
    """Authenticates requests by `schemes`, in order; `missing` is the failure of a request
    that none of them takes."""

    def __init__(
        self,
        schemes: Sequence[Scheme[Any]],
        missing: Callable[[], Exception] = NotAuthenticatedError,
    ) -> None:
        self.schemes = tuple(schemes)
        # Each scheme's two steps, looked up once: a request that tries three schemes (the
        # session one after the token's and the JWT's "not mine") would look them up anew.
        self._steps = tuple((scheme.read, scheme.prove) for scheme in self.schemes)
        self._missing = missing

    async def authenticate(self, connection: HTTPConnection) -> Principal:
        """The request's principal, or its authentication failure, raised; the lane's outcome
        when the lane already authenticated this request."""
        scope = connection.scope
        kept = scope.get(OUTCOME)
        if kept is not None and kept[0] is self:
            outcome: Principal | Exception = kept[1]
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        return await self._search(scope)

    async def authenticate_for_lane(self, scope: Scope) -> Principal | None:
        """The request's principal, or None on failure (the view answers it); either outcome
        is kept for the view."""
        # The search of _search, inline: a coroutine less on the lane's path of microseconds.
        try:
            for read, prove in self._steps:
                credentials = read(scope)
                if credentials is not None:
                    principal = await prove(credentials)
                    if principal is not None:
                        scope[OUTCOME] = (self, principal)
                        return principal
            raise self._missing()
        except VERDICTS as failure:
            if not isinstance(failure, UnavailableError):
                scope[OUTCOME] = (self, failure)
            return None

    async def _search(self, scope: Scope) -> Principal:
        for read, prove in self._steps:
            credentials = read(scope)
            if credentials is not None:
                principal = await prove(credentials)
                if principal is not None:
                    return principal
        raise self._missing()
