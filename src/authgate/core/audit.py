"""The audit log: every authentication event, with who, when, from where and how it ended.

Entries carry the caller's address and User-Agent (core/callers.py), the user when known, the
login name tried when not, and for failures a reason kept for staff (never sent to the client,
which sees one answer for every failed login). Never a password or a token.

A failure to write an entry is logged, not raised: the service keeps authenticating (an auth
server that stops at a full disk locks everyone out), and the log line says what was lost.
Entries are written in batches, off the request's path (core/audit_batch.py says what that
risks); reads flush first, so they see every entry recorded before them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from authgate.core.audit_batch import AuditBatcher
from authgate.core.callers import current_caller
from authgate.core.clock import Clock
from authgate.core.models import AuditCounts, AuditEvent, AuditQuery, User
from authgate.core.staff import require_staff

if TYPE_CHECKING:
    from authgate.store.protocol import Store

log = logging.getLogger(__name__)

SUCCESS, FAILURE = "success", "failure"
PRUNE_EVERY_SECONDS = 3600

# The events.
LOGIN = "login"
LOGOUT = "logout"
LOGOUT_ALL = "logout_all"
TOKEN_REVOKED = "token_revoked"
REFRESH_REUSE = "refresh_reuse"
PASSWORD_CHANGE = "password_change"
USERNAME_CHANGE = "username_change"
PASSWORD_RESET_REQUEST = "password_reset_request"
PASSWORD_RESET = "password_reset"
ACTIVATION = "activation"
ROLE_CHANGE = "role_change"
LOCKOUT = "lockout"
UNLOCK = "unlock"
REGISTER = "register"
# Staff's changes (the actor in the reason, see by_staff): a user's profile, activation (the
# link's ACTIVATION above, when staff do it) and deactivation, their groups and own
# permissions; and the definitions of groups and permissions, which name no user.
PROFILE_CHANGE = "profile_change"
DEACTIVATION = "deactivation"
GROUPS_CHANGE = "groups_change"
PERMISSIONS_CHANGE = "permissions_change"
GROUP_CHANGE = "group_change"
PERMISSION_CHANGE = "permission_change"

# Failure reasons, for staff.
UNKNOWN_USER = "unknown_user"
WRONG_PASSWORD = "wrong_password"
INACTIVE = "inactive"
LOCKED = "locked"
THROTTLED = "throttled"

REASON_MAX_LENGTH = 64  # the audit_event.reason column
_ACTOR_MAX_LENGTH = 40


def by_staff(what: str, actor: User) -> str:
    """The reason of an entry for a change `actor` made: what changed, then who, by id (which
    outlives a rename or deletion) and name. Within the column: `what` is cut (ending in
    "…") before the actor's id ever is."""
    who = f"by #{actor.id} {actor.username}"[:_ACTOR_MAX_LENGTH]
    room = REASON_MAX_LENGTH - len(who) - 1
    if len(what) > room:
        what = what[: room - 1] + "…"
    return f"{what} {who}"


def ids_text(ids: Iterable[int]) -> str:
    """Ids as an entry's reason lists them: `1,2,3`, or `none`."""
    return ",".join(str(i) for i in ids) or "none"


class Audit:
    """Writes audit entries and reads them back for staff."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        retention_days: int,
        flush_seconds: float = 0.0,
        max_pending: int = 1,
    ) -> None:
        self._store = store
        self._clock = clock
        self._retention = timedelta(days=retention_days)
        self._pruning: asyncio.Task[None] | None = None
        self._batcher = AuditBatcher(store, flush_seconds=flush_seconds, max_pending=max_pending)

    @property
    def pending(self) -> int:
        """Entries waiting to be written in a batch."""
        return self._batcher.pending

    def start(self) -> None:
        """Batch entries from now on; prune old entries now and every hour."""
        self._batcher.start()
        self._pruning = asyncio.get_running_loop().create_task(self._keep_pruned())

    async def stop(self) -> None:
        """Stop pruning; write every pending entry."""
        if self._pruning is not None:
            self._pruning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruning
        await self._batcher.stop()

    async def _keep_pruned(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception:
                log.warning("could not prune the audit log", exc_info=True)
            await asyncio.sleep(PRUNE_EVERY_SECONDS)

    async def record(
        self,
        event: str,
        outcome: str = SUCCESS,
        *,
        user_id: int | None = None,
        login: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Add an entry for the current caller (none outside a request); it is written with
        the next batch (at once before `start()`)."""
        caller = current_caller.get()
        entry = AuditEvent(
            event=event,
            outcome=outcome,
            created_at=self._clock.now(),
            user_id=user_id,
            login=login[:254] if login else None,
            address=caller.address if caller else None,
            user_agent=caller.user_agent if caller else None,
            reason=reason,
        )
        await self._batcher.add(entry)

    async def events_for(
        self,
        actor: User,
        *,
        user_id: int | None = None,
        event: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Entries for a staff member (PermissionDeniedError for anyone else), newest first."""
        require_staff(actor)
        return await self.events(user_id=user_id, event=event, before_id=before_id, limit=limit)

    async def events(
        self,
        *,
        user_id: int | None = None,
        event: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Entries, newest first, pending ones included (they are written first)."""
        await self._batcher.flush()
        return await self._store.audit_events(AuditQuery(user_id, event, before_id, limit))

    async def counts_for(
        self, actor: User, since: datetime, bucket: Literal["hour", "day"]
    ) -> list[AuditCounts]:
        """Logins, registrations, lockouts and throttled logins per hour or day since `since`,
        for a staff member (PermissionDeniedError for anyone else), pending entries included."""
        require_staff(actor)
        await self._batcher.flush()
        return await self._store.audit_counts(since, bucket)

    async def prune(self) -> int:
        """Delete entries older than the retention; returns how many."""
        return await self._store.prune_audit(self._clock.now() - self._retention)
