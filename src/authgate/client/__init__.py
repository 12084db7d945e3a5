"""authgate's client library for the services behind it: the `authgate-guard` distribution
(`pip install ./clients/python` in a checkout), imported as `authgate_guard`; the same modules
are `authgate.client` where the server is installed.

- `AuthgateClient` / `AsyncAuthgateClient`: check_token, introspection (`users/me/`), JWT
  verification by authgate (`jwt/verify/`) and the JWKS, over httpx.
- `Guard` / `SyncGuard`: an Authorization header to an `Identity`, JWTs verified locally.
- `AuthgateMiddleware` (ASGI) and `RequireIdentity` (Starlette handlers, FastAPI `Depends`).
- `authgate_guard.drf.AuthgateAuthentication`: for Django REST framework services.

Only httpx and PyJWT are needed: Starlette (for `RequireIdentity`), Django and DRF are the
service's own and imported when used; Redis (`[redis]` extra) only to follow revocations.

Every failure is an `AuthgateClientError`: `InvalidToken` (401), `AuthgateUnavailable` and its
`AuthgateTimeout` (503).
"""

from typing import TYPE_CHECKING, Any

from .asgi import AuthgateMiddleware, identity_of
from .clients import AsyncAuthgateClient, AuthgateClient
from .errors import (
    AuthgateClientError,
    AuthgateTimeout,
    AuthgateUnavailable,
    InvalidToken,
    TokenUserMismatch,
)
from .guard import Guard, GuardOptions, SyncGuard
from .identity import Identity

if TYPE_CHECKING:
    from .dependency import RequireIdentity

__all__ = [
    "AsyncAuthgateClient",
    "AuthgateClient",
    "AuthgateClientError",
    "AuthgateMiddleware",
    "AuthgateTimeout",
    "AuthgateUnavailable",
    "Guard",
    "GuardOptions",
    "Identity",
    "InvalidToken",
    "RequireIdentity",
    "SyncGuard",
    "TokenUserMismatch",
    "identity_of",
]


def __getattr__(name: str) -> Any:
    """`RequireIdentity`, imported on first use: it needs Starlette, which only Starlette and
    FastAPI services have."""
    if name == "RequireIdentity":
        try:
            from .dependency import RequireIdentity
        except ModuleNotFoundError as error:
            raise ImportError(
                f"RequireIdentity is for Starlette and FastAPI services: it needs {error.name}"
            ) from error
        return RequireIdentity
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
