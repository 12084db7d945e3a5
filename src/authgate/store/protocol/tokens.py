"""Opaque tokens (core/tokens.py) and the admin's view of a user's."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from authgate.core.models import TokenPrincipal, TokenRecord


class TokenStore(Protocol):
    """Opaque tokens (core/tokens.py) and the admin's view of a user's."""

    async def get_principal(self, digest: str) -> TokenPrincipal | None:
        """The token with this digest and its user, in one indexed read."""
        ...

    async def create_token_if_verified(self, record: TokenRecord, password_hash: str) -> bool:
        """Store a new token digest only while its user is active and has this password hash
        (a compare-and-set against a change, deactivation or deletion racing the login);
        False, storing nothing, when they are not."""
        ...

    async def touch_token(self, digest: str, at: datetime) -> None:
        """Record that a token was used."""
        ...

    async def delete_token(self, digest: str) -> None:
        """Revoke one token."""
        ...

    async def delete_user_tokens(self, user_id: int) -> int:
        """Revoke every token of a user; returns how many."""
        ...

    async def list_user_tokens(self, user_id: int) -> list[TokenRecord]:
        """The user's opaque tokens (digests only), newest first."""
        ...

    async def delete_user_token(self, user_id: int, digest: str) -> bool:
        """Revoke one token of this user; False if there was none."""
        ...
