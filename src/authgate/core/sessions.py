"""Server-side browser sessions: the admin UI's login, beside tokens.

A session is a random 256-bit value (`secrets.token_urlsafe(32)`) in an HttpOnly cookie. Only
its SHA-256 digest is stored, so a read of the database yields no usable session; the value is
not signed as well, since it is looked up server-side and a guessed one finds no row. A session
ends at its absolute lifetime, after an idle time, at logout, when staff revoke it, and when its
user's password changes or the user is deactivated (core/credentials.py) or deleted (the
cascade).

A resolved session is kept in memory (core/principal_cache.py, as opaque tokens are), so a
request with a known cookie reads no database: its absolute and idle expiry are still judged
against the clock every time, on the cached record. Whatever ends a session tells the revocation
feed after the row is gone, which empties the user's entries here at once and in every other
process within the feed's poll interval, exactly as for tokens.

Each session has a CSRF token bound to it: an HMAC of the session's digest under the secret key,
so nothing more is stored, a token is useless with any other session, and it cannot be computed
from the cookie without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from authgate.core import audit
from authgate.core.audit import Audit
from authgate.core.callers import current_caller
from authgate.core.clock import Clock
from authgate.core.errors import InvalidCredentialsError, NotFoundError
from authgate.core.models import SessionPrincipal, SessionRecord, User
from authgate.core.principal_cache import PrincipalCache
from authgate.core.revocations import Revocations
from authgate.core.staff import authorize_staff_change, require_staff

if TYPE_CHECKING:
    from authgate.store.protocol import Store

log = logging.getLogger(__name__)

SESSION_BYTES = 32
# A session's last use is written at most this often: enough for an idle timeout of minutes.
TOUCH_INTERVAL_SECONDS = 60
USER_AGENT_MAX_LENGTH = 256
_CSRF_CONTEXT = b"authgate session csrf\x00"


def session_digest(raw: str) -> str:
    """The stored form of a session value (256 random bits need no salt or slow hash)."""
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """A live session and its user, as read for this request."""

    user: User
    record: SessionRecord
    # The moment it stops being live: its absolute end or its idle end, whichever is first.
    live_until: datetime
    # Derived once per read (a cached copy serves thousands of requests): when its last use
    # falls due for writing, and the principal it proves (a frozen dataclass costs a request
    # more to build than the whole of resolve's checks).
    touch_at: datetime = field(init=False, repr=False, compare=False)
    principal: SessionPrincipal = field(init=False, repr=False, compare=False)
    # Until when this copy answers with neither a read nor a write: live, no use falling due
    # (one comparison on the path of nearly every request, Sessions.cached).
    quiet_until: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        touch_at = self.record.last_used_at + timedelta(seconds=TOUCH_INTERVAL_SECONDS)
        object.__setattr__(self, "touch_at", touch_at)
        object.__setattr__(self, "principal", SessionPrincipal(self.user, self.record.digest))
        object.__setattr__(self, "quiet_until", min(self.live_until, touch_at))


class Sessions:
    """Open, resolve, list and end browser sessions."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        audit_log: Audit,
        *,
        cache: PrincipalCache[Session],
        revocations: Revocations,
        secret: str,
        lifetime_seconds: int,
        idle_seconds: int,
    ) -> None:
        self._store = store
        self._clock = clock
        self._audit = audit_log
        self._cache = cache
        self._revocations = revocations
        self._key = hashlib.sha256(_CSRF_CONTEXT + secret.encode()).digest()
        self._lifetime = timedelta(seconds=lifetime_seconds)
        self._idle = timedelta(seconds=idle_seconds)

    async def create(self, user: User) -> str:
        """A new session for `user` as just authenticated; returns the cookie's value.

        As with tokens, the user is read again after the insert: a password change or
        deactivation that landed meanwhile would have missed this session.
        """
        raw = secrets.token_urlsafe(SESSION_BYTES)
        now = self._clock.now()
        caller = current_caller.get()
        record = SessionRecord(
            digest=session_digest(raw),
            user_id=user.id,
            created_at=now,
            expires_at=now + self._lifetime,
            last_used_at=now,
            address=caller.address if caller else None,
            user_agent=_user_agent(caller.user_agent if caller else None),
        )
        try:
            await self._store.create_session(record)
        except NotFoundError:
            raise InvalidCredentialsError from None
        current = await self._store.get_user(user.id)
        if current is None or not current.is_active or current.password_hash != user.password_hash:
            await self._store.delete_session(user.id, record.digest)
            raise InvalidCredentialsError
        return raw

    def cached(self, raw: str) -> Session | None:
        """resolve's answer when memory alone gives it, with nothing to write: the cached live
        session of this cookie value, of an active user, whose last use is not yet due for
        writing. None otherwise (not cached, ended, inactive, a write due): ask resolve. No
        coroutine: the session scheme answers nearly every request from this."""
        if not raw or len(raw) > 2 * SESSION_BYTES:
            return None
        session = self._cache.get(session_digest(raw))
        if session is None or not session.user.is_active:
            return None
        return session if self._clock.now() < session.quiet_until else None

    async def resolve(self, raw: str) -> Session | None:
        """The live session of this cookie value and its (active) user, else None."""
        if not raw or len(raw) > 2 * SESSION_BYTES:
            return None
        digest = session_digest(raw)
        now = self._clock.now()
        session = self._cache.get(digest)
        if session is not None and now >= session.live_until:
            # Another process may have recorded a later use than this copy holds: the store
            # has the last word before the session is refused.
            self._cache.discard(digest)
            session = None
        if session is None:
            generation = self._cache.generation
            found = await self._store.get_session(digest)
            if found is None:
                return None
            session = self._session(*found)
            if now >= session.live_until:
                return None
            self._cache.put(digest, session, generation=generation)
        if not session.user.is_active:
            return None
        if now >= session.touch_at:
            # The cached copy first, before the write's await: concurrent requests of this
            # session then do not write it again.
            session = self._session(session.user, replace(session.record, last_used_at=now))
            self._cache.refresh(digest, session)
            await self._store.touch_session(digest, now)
        return session

    def _session(self, user: User, record: SessionRecord) -> Session:
        """A session as read: live while within its absolute lifetime and its idle time."""
        return Session(user, record, min(record.expires_at, record.last_used_at + self._idle))

    def csrf_token(self, session: Session) -> str:
        """The synchronizer token of this session, for its forms."""
        return self._csrf_of(session.record.digest)

    def csrf_token_for(self, raw: str) -> str:
        """The synchronizer token of the session of this cookie value (just created)."""
        return self._csrf_of(session_digest(raw))

    def _csrf_of(self, digest: str) -> str:
        return hmac.new(self._key, digest.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, session: Session, presented: str | None) -> bool:
        """Whether `presented` is this session's CSRF token (compared in constant time, as
        bytes: compare_digest raises on non-ASCII text)."""
        if not presented:
            return False
        expected = self.csrf_token(session).encode()
        return hmac.compare_digest(expected, presented.encode("utf-8", "surrogateescape"))

    async def replace(self, previous_raw: str | None, user: User) -> str:
        """A login's new session for `user`: the browser's previous one (this cookie value, if
        still live) ends, and a new value is issued, so one planted before the login is worth
        nothing. Returns the new cookie value; InvalidCredentialsError as create()."""
        previous = await self.resolve(previous_raw) if previous_raw else None
        if previous is not None:
            await self.end(previous)
        return await self.create(user)

    async def end(self, session: Session) -> None:
        """Log out: end this session."""
        await self.log_out(session.user.id, session.record.digest)

    async def log_out(self, user_id: int, digest: str) -> None:
        """Log out: end the session of this digest (and, through the feed, every process's
        cached copy: after the delete, so no read can cache it again)."""
        await self._store.delete_session(user_id, digest)
        await self._revocations.publish(user_id)
        await self._audit.record(audit.LOGOUT, user_id=user_id, reason="session")

    async def list_for(self, actor: User, user: User) -> list[SessionRecord]:
        """The user's unexpired sessions, newest first (staff only)."""
        require_staff(actor)
        now = self._clock.now()
        return [
            s
            for s in await self._store.list_user_sessions(user.id)
            if s.expires_at > now and s.last_used_at + self._idle > now
        ]

    async def revoke(self, actor: User, user: User, digest: str) -> bool:
        """End one session of `user` (staff who may change the user); False if it was
        already gone."""
        authorize_staff_change(actor, user)
        ended = await self._store.delete_session(user.id, digest)
        if ended:
            await self._revocations.publish(user.id)
            await self._audit.record(
                audit.TOKEN_REVOKED, user_id=user.id, reason=f"session by {actor.username}"[:64]
            )
        return ended

    async def revoke_every(self, actor: User, user: User) -> int:
        """End every session of `user` (staff who may change the user); returns how many
        there were."""
        authorize_staff_change(actor, user)
        count = await self.revoke_all(user.id)
        await self._audit.record(
            audit.TOKEN_REVOKED,
            user_id=user.id,
            reason=f"all {count} sessions by {actor.username}"[:64],
        )
        return count

    async def revoke_all(self, user_id: int) -> int:
        """End every session of a user; returns how many there were. The feed is told after
        the rows are gone: a read racing an earlier publish (a password change's) may have
        cached one meanwhile."""
        count = await self._store.delete_user_sessions(user_id)
        await self._revocations.publish(user_id)
        return count

    async def prune(self) -> int:
        """Delete sessions past their absolute lifetime."""
        return await self._store.prune_sessions(self._clock.now())


def _user_agent(value: str | None) -> str | None:
    """The User-Agent as the column holds it (cut to its length)."""
    return value[:USER_AGENT_MAX_LENGTH] if value else None
