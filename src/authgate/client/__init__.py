"""authgate's client library for the services behind it (`pip install 'authgate[client]'`).

- `AuthgateClient` / `AsyncAuthgateClient`: check_token, introspection (`users/me/`), JWT
  verification by authgate (`jwt/verify/`) and the JWKS, over httpx.
- `Guard` / `SyncGuard`: an Authorization header to an `Identity`, JWTs verified locally.
- `AuthgateMiddleware` (ASGI) and `RequireIdentity` (Starlette handlers, FastAPI `Depends`).
- `authgate.client.drf.AuthgateAuthentication`: for Django REST framework services.

Every failure is an `AuthgateClientError`: `InvalidToken` (401), `AuthgateUnavailable` and its
`AuthgateTimeout` (503).
"""

from authgate.client.asgi import AuthgateMiddleware, identity_of
from authgate.client.clients import AsyncAuthgateClient, AuthgateClient
from authgate.client.dependency import RequireIdentity
from authgate.client.errors import (
    AuthgateClientError,
    AuthgateTimeout,
    AuthgateUnavailable,
    InvalidToken,
    TokenUserMismatch,
)
from authgate.client.guard import Guard, GuardOptions, SyncGuard
from authgate.client.identity import Identity

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
