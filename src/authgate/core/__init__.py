"""The core of authgate: users, passwords, tokens and links, with no HTTP in it.

Dialects receive one `Core` and reach everything through it (`core.users.register(...)`);
authgate/composition.py builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from authgate.core.audit import Audit
from authgate.core.clock import Clock
from authgate.core.counters import Counters
from authgate.core.directory import Directory
from authgate.core.jwt import Jwts
from authgate.core.logins import Logins
from authgate.core.models import Principal, SessionPrincipal, TokenPrincipal
from authgate.core.notices import Notices
from authgate.core.passwords import Passwords
from authgate.core.recovery import Recovery
from authgate.core.revocations import Revocations
from authgate.core.sessions import Sessions
from authgate.core.tokens import Tokens
from authgate.core.user_tokens import UserTokens
from authgate.core.users import Users
from authgate.settings import Settings

if TYPE_CHECKING:
    from authgate.store.protocol import Store

__all__ = ["Core"]


@dataclass(frozen=True, slots=True)
class Core:
    """Every service of the core, wired to one store, mailer and clock."""

    settings: Settings
    store: Store
    clock: Clock
    passwords: Passwords
    tokens: Tokens
    user_tokens: UserTokens
    users: Users
    logins: Logins
    recovery: Recovery
    notices: Notices
    revocations: Revocations
    jwts: Jwts
    directory: Directory
    audit: Audit
    sessions: Sessions
    counters: Counters

    async def start(self) -> None:
        """Start background work (following the revocation feed); the store is connected."""
        await self.revocations.start()
        self.audit.start()

    async def log_out(self, principal: Principal) -> None:
        """Log out whatever proved this principal: its opaque token, its browser session, or
        (a JWT, which cannot be withdrawn alone) every JWT of the user."""
        if isinstance(principal, TokenPrincipal):
            await self.tokens.revoke(principal)
        elif isinstance(principal, SessionPrincipal):
            await self.sessions.log_out(principal.user.id, principal.session_digest)
        else:
            await self.jwts.log_out(principal.user.id)

    async def close(self) -> None:
        """Finish background work (pending audit entries, emails, last-used writes) and stop
        the core's threads."""
        await self.revocations.stop()
        await self.audit.stop()
        await self.notices.drain()
        await self.tokens.drain()
        await self.counters.close()
        self.passwords.close()
