"""The answers a guard gives in front of a service, in DRF's shape (`{"detail": ...}`), which
is what authgate's own clients already read. The ASGI middleware and RequireIdentity (Starlette,
FastAPI) send the same JSON, built by `json_refusal`; DRF words it itself from the same texts."""

from __future__ import annotations

import json

from .errors import AuthgateClientError, InvalidToken

CHALLENGE = "Bearer"
RETRY_AFTER_SECONDS = "5"
NOT_PROVIDED = "Authentication credentials were not provided."
INVALID = "Invalid token."
UNAVAILABLE = "The authentication service is unavailable. Try again later."


def refusal(error: AuthgateClientError) -> tuple[int, str, dict[str, str]]:
    """(status, detail, headers) for a guard's refusal: 401 for a token that proves nobody,
    503 (with Retry-After) when authgate could not say."""
    if isinstance(error, InvalidToken):
        detail = NOT_PROVIDED if error.reason == "missing" else INVALID
        return 401, detail, {"WWW-Authenticate": CHALLENGE}
    # AuthgateUnavailable and AuthgateTimeout, and any kind added later: fail closed.
    return 503, UNAVAILABLE, {"Retry-After": RETRY_AFTER_SECONDS}


def json_refusal(error: AuthgateClientError) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) of the JSON answer to a guard's refusal: `{"detail": ...}`."""
    status, detail, headers = refusal(error)
    body = json.dumps({"detail": detail}).encode()
    return status, body, {"Content-Type": "application/json", **headers}
