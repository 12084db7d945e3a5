"""Opaque tokens: issued per login, stored as SHA-256 digests, resolved in one indexed read."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from authgate.constants import TOKEN_BYTES, TOKEN_TOUCH_INTERVAL_SECONDS
from authgate.core import audit
from authgate.core.audit import Audit
from authgate.core.clock import Clock
from authgate.core.errors import (
    InactiveUserError,
    InvalidCredentialsError,
    TokenInvalidError,
    UnavailableError,
)
from authgate.core.events import EXPIRED, INACTIVE, INVALID, NO_EVENTS, VALID, Events
from authgate.core.models import TokenPrincipal, TokenRecord, User
from authgate.core.principal_cache import PrincipalCache
from authgate.core.revocations import Revocations

if TYPE_CHECKING:
    from authgate.store.protocol import Store

log = logging.getLogger(__name__)
UNKNOWN_TOKEN_SECONDS = 1.0
# As a timedelta: resolve compares it with the time since the last use, no float made.
TOUCH_INTERVAL = timedelta(seconds=TOKEN_TOUCH_INTERVAL_SECONDS)
UNKNOWN_TOKENS_REMEMBERED = 10_000


def digest(raw: str) -> str:
    """The stored form of a token. A 160-bit random token needs no salt or slow hash."""
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()


class Tokens:
    """Issue, resolve and revoke opaque tokens."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        cache: PrincipalCache[TokenPrincipal],
        revocations: Revocations,
        audit: Audit,
        ttl_seconds: int | None,
        events: Events = NO_EVENTS,
    ) -> None:
        self._store = store
        self._events = events
        self._clock = clock
        self._cache = cache
        self._revocations = revocations
        self._audit = audit
        self._ttl = None if ttl_seconds is None else timedelta(seconds=ttl_seconds)
        self._touching: set[asyncio.Task[None]] = set()
        self._unknown: dict[str, float] = {}

    async def issue(self, user: User) -> str:
        """A new token for `user` as just authenticated (one per login, so each device logs
        out on its own).

        A password change, deactivation or deletion may have landed while the password was
        being verified; its revocation would then have missed this token. So the token is
        stored only while the user is still active with the password hash verified (one
        statement), else InvalidCredentialsError.
        """
        raw, record = self.draft(user.id)
        if not await self._store.create_token_if_verified(record, user.password_hash):
            raise InvalidCredentialsError
        return raw

    def draft(self, user_id: int) -> tuple[str, TokenRecord]:
        """A new token of this user and its stored form, for the caller to store."""
        raw = secrets.token_hex(TOKEN_BYTES)
        now = self._clock.now()
        expires_at = None if self._ttl is None else now + self._ttl
        return raw, TokenRecord(digest(raw), user_id, now, expires_at, last_used_at=None)

    async def resolve(self, raw: str) -> TokenPrincipal:
        """The user a token belongs to; TokenInvalidError or InactiveUserError otherwise."""
        token_digest = digest(raw)
        principal = self._cache.get(token_digest)
        # Answered from memory: a cached token, or one just found not to exist.
        cached = principal is not None
        if principal is None:
            if self._recently_unknown(token_digest):
                self._events.token_checked(INVALID, cached=True)
                raise TokenInvalidError
            generation = self._cache.generation
            principal = await self._store.get_principal(token_digest)
            if principal is None:
                self._remember_unknown(token_digest)
                self._events.token_checked(INVALID, cached=False)
                raise TokenInvalidError
            self._cache.put(token_digest, principal, generation=generation)
        now = self._clock.now()
        expires_at = principal.token.expires_at
        if expires_at is not None and expires_at <= now:
            self._events.token_checked(EXPIRED, cached=cached)
            raise TokenInvalidError
        if not principal.user.is_active:
            self._events.token_checked(INACTIVE, cached=cached)
            raise InactiveUserError
        self._events.token_checked(VALID, cached=cached)
        last_used = principal.token.last_used_at
        if last_used is None or now - last_used >= TOUCH_INTERVAL:
            self._touch_later(principal, now)
        return principal

    def _recently_unknown(self, token_digest: str) -> bool:
        seen_until = self._unknown.get(token_digest)
        return seen_until is not None and seen_until > time.monotonic()

    def _remember_unknown(self, token_digest: str) -> None:
        """Remember for a moment that no such token exists, so that a flood of one bad token
        costs one store read. Safe: a new token is 160 fresh random bits, never a digest seen
        before."""
        if len(self._unknown) >= UNKNOWN_TOKENS_REMEMBERED:
            self._unknown.pop(next(iter(self._unknown)))
        self._unknown[token_digest] = time.monotonic() + UNKNOWN_TOKEN_SECONDS

    def _touch_later(self, principal: TokenPrincipal, now: datetime) -> None:
        """Refresh last_used_at at most once a minute, off the request's path."""
        token = replace(principal.token, last_used_at=now)
        self._cache.refresh(token.digest, replace(principal, token=token))
        task = asyncio.get_running_loop().create_task(self._touch(token.digest))
        self._touching.add(task)
        task.add_done_callback(self._touching.discard)

    async def _touch(self, token_digest: str) -> None:
        try:
            await self._store.touch_token(token_digest, self._clock.now())
        except UnavailableError:
            # The database away is no bug: one line, not a traceback per token in use.
            log.warning("could not record token use")
        except Exception:
            log.warning("could not record token use", exc_info=True)

    async def revoke(self, principal: TokenPrincipal) -> None:
        """Log out: revoke the token that authenticated this request."""
        await self._store.delete_token(principal.token.digest)
        await self._revocations.publish(principal.user.id)
        await self._audit.record(audit.LOGOUT, user_id=principal.user.id)

    async def log_out_everywhere(self, user_id: int) -> int:
        """Log out of every device: revoke every token of the user (returns how many)."""
        count = await self.revoke_all(user_id)
        await self._audit.record(audit.LOGOUT_ALL, user_id=user_id)
        return count

    async def revoke_all(self, user_id: int) -> int:
        """Revoke every token of a user; returns how many there were."""
        count = await self._store.delete_user_tokens(user_id)
        await self._revocations.publish(user_id)
        return count

    async def drain(self) -> None:
        """Wait for pending last_used_at writes (at shutdown)."""
        if self._touching:
            await asyncio.gather(*self._touching, return_exceptions=True)
