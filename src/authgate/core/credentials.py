"""Ending every credential of a user at once: when their password changes or their account is
deactivated, no opaque token, JWT or browser session issued before outlives it."""

from __future__ import annotations

from authgate.core.jwt import Jwts
from authgate.core.sessions import Sessions
from authgate.core.tokens import Tokens


class Credentials:
    """What a user holds to prove who they are, across the three kinds."""

    def __init__(self, tokens: Tokens, jwts: Jwts, sessions: Sessions) -> None:
        self._tokens = tokens
        self._jwts = jwts
        self._sessions = sessions

    async def end_all(self, user_id: int, *, keep_opaque_tokens: bool = False) -> None:
        """End every credential of the user: their opaque tokens (unless `keep_opaque_tokens`,
        Djoser's choice on a password change, AUTHGATE_REVOKE_TOKENS_ON_PASSWORD_CHANGE off),
        every JWT (CVE-2024-22513: whatever that setting says) and every browser session
        (Django's rule: a stolen session must not outlive the password). The tokens and the
        JWTs tell the revocation feed, so every process drops what it cached of the user."""
        if not keep_opaque_tokens:
            await self._tokens.revoke_all(user_id)
        await self._jwts.revoke_all(user_id)
        await self._sessions.revoke_all(user_id)
