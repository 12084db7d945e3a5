"""The sync and the async client: the same three questions (check_token, introspection, JWKS)
over httpx. Both only move bytes; what is asked and how answers read is wire.py's.

Every failure is typed (errors.py): InvalidToken (the token proves nobody), AuthgateUnavailable
(no usable answer) and AuthgateTimeout (no answer in time).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

from . import wire
from .identity import Identity

DEFAULT_TIMEOUT_SECONDS = 2.0
"""Short: a guard waits this long before it answers 503, on every request, while authgate is
down or stuck."""


class AuthgateClient:
    """A blocking client (for WSGI services, Django, scripts). Thread-safe, as httpx.Client."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        token_keyword: str = "Token",
        http: httpx.Client | None = None,
    ) -> None:
        """`base_url` is authgate's root (a path prefix is kept); `token_keyword` is how opaque
        tokens are presented to it (`Token` or `Bearer`: both accepted by default); `http`
        lets a caller share its own httpx.Client (then closing it stays the caller's job)."""
        self._owns_http = http is None
        self._http = http or httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout))
        self.keyword = token_keyword

    def _send(self, call: wire.Call) -> httpx.Response:
        try:
            return self._http.request(
                call.method, call.path, headers=dict(call.headers), json=call.json
            )
        except httpx.HTTPError as error:
            raise wire.transport_error(error) from error

    def check_token(self, token: str, username: str) -> str:
        """Whether `token` is valid and belongs to `username` (compared as authgate compares
        usernames); returns the stored spelling. TokenUserMismatch for someone else's token."""
        call = wire.check_token_call(token, username, self.keyword)
        return wire.read_check_token(self._send(call), username)

    def introspect(self, token: str) -> Identity:
        """Whose the opaque `token` is (authgate's `users/me/`)."""
        return wire.read_introspection(self._send(wire.introspect_call(token, self.keyword)))

    def verify_jwt(self, token: str) -> Identity:
        """authgate's own verdict on a JWT (`jwt/verify/`), for services without the key."""
        return wire.read_jwt_verification(self._send(wire.verify_jwt_call(token)), token)

    def staff_flags(self, token: str, user_id: str) -> wire.StaffFlags:
        """is_staff and is_superuser of the opaque `token`'s holder (their own record)."""
        call = wire.user_record_call(token, user_id, self.keyword)
        return wire.read_staff_flags(self._send(call))

    def fetch_jwks(self) -> list[dict[str, Any]]:
        """The JWKs of `/.well-known/jwks.json` (empty with an HMAC configuration)."""
        return wire.read_jwks(self._send(wire.jwks_call()))

    def close(self) -> None:
        """Close the connection pool (when this client made it)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncAuthgateClient:
    """The asyncio client (Starlette, FastAPI, any ASGI service). One per event loop."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        token_keyword: str = "Token",
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """As AuthgateClient's."""
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(timeout))
        self.keyword = token_keyword

    async def _send(self, call: wire.Call) -> httpx.Response:
        try:
            return await self._http.request(
                call.method, call.path, headers=dict(call.headers), json=call.json
            )
        except httpx.HTTPError as error:
            raise wire.transport_error(error) from error

    async def check_token(self, token: str, username: str) -> str:
        """As AuthgateClient.check_token."""
        call = wire.check_token_call(token, username, self.keyword)
        return wire.read_check_token(await self._send(call), username)

    async def introspect(self, token: str) -> Identity:
        """As AuthgateClient.introspect."""
        call = wire.introspect_call(token, self.keyword)
        return wire.read_introspection(await self._send(call))

    async def verify_jwt(self, token: str) -> Identity:
        """As AuthgateClient.verify_jwt."""
        response = await self._send(wire.verify_jwt_call(token))
        return wire.read_jwt_verification(response, token)

    async def staff_flags(self, token: str, user_id: str) -> wire.StaffFlags:
        """As AuthgateClient.staff_flags."""
        call = wire.user_record_call(token, user_id, self.keyword)
        return wire.read_staff_flags(await self._send(call))

    async def fetch_jwks(self) -> list[dict[str, Any]]:
        """As AuthgateClient.fetch_jwks."""
        return wire.read_jwks(await self._send(wire.jwks_call()))

    async def aclose(self) -> None:
        """Close the connection pool (when this client made it)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
