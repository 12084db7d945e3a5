"""A user's opaque tokens as staff see them: listed by digest, revoked one by one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authgate.core import audit
from authgate.core.audit import Audit
from authgate.core.models import TokenRecord, User
from authgate.core.revocations import Revocations
from authgate.core.staff import Actor, Operator, authorize_staff_change, require_staff

if TYPE_CHECKING:
    from authgate.store.protocol import Store


class UserTokens:
    """Staff's view of a user's tokens (the token itself is never stored, so never shown)."""

    def __init__(self, store: Store, revocations: Revocations, audit_log: Audit) -> None:
        self._store = store
        self._revocations = revocations
        self._audit = audit_log

    async def list_for(self, actor: User, user: User) -> list[TokenRecord]:
        """The user's tokens, newest first (staff only)."""
        require_staff(actor)
        return await self._store.list_user_tokens(user.id)

    async def revoke(self, actor: User, user: User, digest: str) -> bool:
        """Revoke one token of `user` (staff only); False if it was already gone. Every worker
        drops it from its cache through the revocation feed."""
        authorize_staff_change(actor, user)
        revoked = await self._store.delete_user_token(user.id, digest)
        if revoked:
            await self._revocations.publish(user.id)
            await self._audit.record(
                audit.TOKEN_REVOKED, user_id=user.id, reason=f"by {actor.username}"[:64]
            )
        return revoked

    async def revoke_all(self, actor: Actor, user: User) -> int:
        """Revoke every token of `user` (the operator, or staff who may change the user);
        returns how many there were."""
        authorize_staff_change(actor, user)
        count = await self._store.delete_user_tokens(user.id)
        await self._revocations.publish(user.id)
        by = f"by {actor.name}" if isinstance(actor, Operator) else f"by {actor.username}"
        await self._audit.record(
            audit.TOKEN_REVOKED, user_id=user.id, reason=f"all {count} {by}"[:64]
        )
        return count
