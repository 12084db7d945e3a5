"""The core's exceptions: stable codes and parameters, no HTTP status and no wording.

    AuthgateError
      InvalidCredentialsError    unknown login, wrong password, inactive user: one class, no oracle
      TokenInvalidError          unknown, expired or revoked token
      InactiveUserError          a valid token of a deactivated user
      PermissionDeniedError      authenticated, but not allowed
      StaleTokenError            activation link of an already active user
      NotFoundError              no such object, or hidden from the caller
      ValidationError            field -> list of Message; "" is the non-field key
      AccountCreationError       the database refused the new account
      ConflictError              a unique field is taken (raised by the store, mapped by users)
      ChangedMeanwhileError      a compare-and-set lost: a link is spent (recovery maps it)
      ThrottledError             too many attempts from a client or at an account; retry later
      UnavailableError           the database or Redis cannot be reached; nothing was done
      JwtError                   a JWT that is not safe to use (`code` in SimpleJWT's words)
        JwtExpiredError          `exp` has passed
        JwtBlacklistedError      a refresh token already used
          JwtReusedError         ... and not as a race between tabs: its login has ended
        JwtSessionEndedError     a refresh token of a login ended by a reuse
      JwtUserError               a well-formed JWT whose user cannot be authenticated
Each dialect maps these to its answers in one table, looked up along the error's class
hierarchy (dialects/errors.py): a subclass answers as its parent unless the table names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

NON_FIELD = ""


@dataclass(frozen=True, slots=True)
class Message:
    """One translatable message: a stable code and its parameters."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict)


class AuthgateError(Exception):
    """Base of every error the core raises."""

    code = "error"


class InvalidCredentialsError(AuthgateError):
    """The login and password do not identify an active user."""

    code = "invalid_credentials"


class TokenInvalidError(AuthgateError):
    """The presented token is unknown, expired or revoked."""

    code = "token_invalid"


class InactiveUserError(AuthgateError):
    """The token is valid but its user is deactivated."""

    code = "user_inactive"


class PermissionDeniedError(AuthgateError):
    """The caller is known but may not do this."""

    code = "permission_denied"


class StaleTokenError(AuthgateError):
    """An activation link for an account that is already active."""

    code = "stale_token"


class NotFoundError(AuthgateError):
    """No such object, or one the caller may not see."""

    code = "not_found"


class AccountCreationError(AuthgateError):
    """The store refused to create the account for a reason other than a taken field."""

    code = "cannot_create_user"


class ValidationError(AuthgateError):
    """Input that breaks a rule; `errors` maps field names (NON_FIELD for none) to messages."""

    code = "invalid"

    def __init__(self, errors: Mapping[str, list[Message]]) -> None:
        super().__init__(", ".join(m.code for ms in errors.values() for m in ms))
        self.errors = dict(errors)

    @classmethod
    def single(cls, field_name: str, code: str, **params: object) -> ValidationError:
        """An error of one message on one field."""
        return cls({field_name: [Message(code, params)]})


class ChangedMeanwhileError(AuthgateError):
    """The account changed between reading and writing it (a compare-and-set lost the race):
    a confirmation link checked against the old state is spent. Recovery answers it as the
    link's own error; it never reaches a dialect."""

    code = "changed_meanwhile"


class ConflictError(AuthgateError):
    """A unique field (username or email) is already taken; raised by the store."""

    code = "conflict"

    def __init__(self, field_name: str) -> None:
        super().__init__(field_name)
        self.field_name = field_name


class ThrottledError(AuthgateError):
    """Too many attempts (per client address or per login) in the current window: the caller
    may try again after `retry_after` seconds (a whole number, at least 1)."""

    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = max(1, retry_after)


class UnavailableError(AuthgateError):
    """A backing service (the database, Redis) cannot be reached: nothing was done and a later
    try may work (503), not a bug. The one outage error: the store raises it for its database
    (store/unavailable.py tells which driver errors are one), the counters for Redis."""

    code = "service_unavailable"


class JwtError(AuthgateError):
    """A token that is not safe to use; `code` says why, in SimpleJWT's words."""

    code = "jwt_invalid"

    def __init__(self, code: str | None = None, **params: object) -> None:
        super().__init__(code or self.code)
        if code is not None:
            self.code = code
        self.params: Mapping[str, object] = params


class JwtExpiredError(JwtError):
    """`exp` has passed (beyond the leeway)."""

    code = "jwt_expired"


class JwtBlacklistedError(JwtError):
    """A refresh token already used (blacklist after rotation)."""

    code = "jwt_blacklisted"


class JwtReusedError(JwtBlacklistedError):
    """A used refresh token came back, not as a race between tabs: its login has been ended."""

    code = "jwt_reused"


class JwtSessionEndedError(JwtError):
    """A refresh token of a login that was ended because one of its tokens was reused."""

    code = "jwt_session_ended"


class JwtUserError(AuthgateError):
    """A well-formed token whose user cannot be authenticated; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
