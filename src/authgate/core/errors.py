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
Each dialect owns one table mapping these to its status codes and messages.
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
