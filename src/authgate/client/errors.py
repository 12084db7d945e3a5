"""The client's typed failures. A downstream service branches on the type, never on the text:
an `InvalidToken` means "treat the caller as logged out" (401), an `AuthgateUnavailable` (or
its `AuthgateTimeout`) means "authgate could not say" (503) — never "let the request through"."""

from __future__ import annotations


class AuthgateClientError(Exception):
    """Every failure the client raises; anything else escaping it is a bug."""


class InvalidToken(AuthgateClientError):  # noqa: N818 the name the issue gives it
    """The credentials prove nobody: missing, malformed, unknown, expired, revoked or signed by
    a key authgate does not hold. `reason` is a stable code for logs (`missing`, `malformed`,
    `rejected`, `expired`, `signature`, `claims`, `unknown_key`, `mismatch`)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class TokenUserMismatch(InvalidToken):
    """check_token: the token is valid but belongs to another user (authgate's 403)."""

    def __init__(self, username: str) -> None:
        super().__init__("mismatch", f"the token does not belong to {username!r}")
        self.username = username


class AuthgateUnavailable(AuthgateClientError):  # noqa: N818 the name the issue gives it
    """authgate could not be asked or gave no usable answer (refused connection, 5xx, an answer
    of the wrong shape). `status` is authgate's HTTP status when there was one."""

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


class AuthgateTimeout(AuthgateUnavailable):
    """authgate did not answer in time. A kind of unavailability: a guard answers 503 for both."""
