"""Flows that run through an emailed link: activation, password reset, username reset.

A link serves the account state it was mailed for, once: reset links an active account,
activation links an account that awaits activation (not one deactivated by staff), and each
is spent in the very write that uses it (a compare-and-set on what the link covers), so that
of any number of simultaneous uses exactly one succeeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authgate.core import audit
from authgate.core.audit import Audit
from authgate.core.callers import caller_address
from authgate.core.clock import Clock
from authgate.core.confirmations import ConfirmationTokens, decode_uid
from authgate.core.errors import ChangedMeanwhileError, StaleTokenError, ValidationError
from authgate.core.identity import email_key
from authgate.core.logins import Logins
from authgate.core.models import User
from authgate.core.notices import Notices
from authgate.core.throttling import RECOVERY, Throttle
from authgate.core.users import Users

if TYPE_CHECKING:
    from authgate.store.protocol import Store


class Recovery:
    """Activation and resets. Requests answer alike whether or not the email is known."""

    def __init__(
        self,
        *,
        store: Store,
        users: Users,
        logins: Logins,
        notices: Notices,
        confirmations: ConfirmationTokens,
        clock: Clock,
        throttle: Throttle,
        audit: Audit,
    ) -> None:
        self._store = store
        self._throttle = throttle
        self._audit = audit
        self._users = users
        self._logins = logins
        self._notices = notices
        self._confirmations = confirmations
        self._clock = clock

    async def check_link(self, uid: str, token: str) -> User:
        """The user a (uid, token) pair was made for; field errors on `uid` or `token`."""
        user_id = decode_uid(uid)
        user = None if user_id is None else await self._store.get_user(user_id)
        if user is None:
            raise ValidationError.single("uid", "invalid_uid")
        if not self._confirmations.check(user, token, self._clock.now()):
            raise _invalid_token()
        return user

    async def _check_reset_link(self, uid: str, token: str) -> User:
        """check_link, for an active account only: reset links are mailed to active accounts,
        and one deactivated since (by staff) is not for a link to change."""
        user = await self.check_link(uid, token)
        if not user.is_active:
            raise _invalid_token()
        return user

    async def _active_user_with_email(self, email: str) -> User | None:
        user = await self._users.find_by_email(email)
        return user if user is not None and user.is_active else None

    async def request_password_reset(self, email: str) -> None:
        """Mail a reset link to the active user with this email, if there is one."""
        await self._throttle_recovery(email)
        user = await self._active_user_with_email(email)
        if user is not None and user.has_usable_password:
            self._notices.password_reset(user)
        # Recorded whether or not the address is known: the same work either way.
        await self._audit.record(
            audit.PASSWORD_RESET_REQUEST, user_id=user.id if user else None, login=email
        )

    async def confirm_password_reset(
        self, *, uid: str, token: str, new_password: str, retype: str | None = None
    ) -> None:
        """Set the password named in a reset link; the link dies with it (the password it
        covers changes in the same write, whoever else uses it at the same moment)."""
        user = await self._check_reset_link(uid, token)
        try:
            # Djoser checks a reset password against no user: no similarity to its fields.
            user = await self._users.set_password(
                user,
                new_password,
                retype=retype,
                check_similarity=False,
                actor=user,
                only_if_unchanged=True,
            )
        except ChangedMeanwhileError as spent:
            raise _invalid_token() from spent
        await self._users.record_login(user)
        # The link proved the email is theirs: whoever kept failing at the account, the
        # owner gets in with the new password (docs/security.md, "Lockout and its outages").
        await self._logins.forgive_failures(user)
        await self._audit.record(audit.PASSWORD_RESET, user_id=user.id)

    async def request_username_reset(self, email: str) -> None:
        """Mail a username reset link to the active user with this email, if there is one."""
        await self._throttle_recovery(email)
        user = await self._active_user_with_email(email)
        if user is not None:
            self._notices.username_reset(user)

    async def confirm_username_reset(
        self, *, uid: str, token: str, new_username: str, retype: str | None = None
    ) -> None:
        """Set the username named in a reset link (once: the username it covers changes in
        the same write)."""
        user = await self._check_reset_link(uid, token)
        try:
            user = await self._users.set_username(
                user, new_username, retype=retype, only_if_unchanged=True
            )
        except ChangedMeanwhileError as spent:
            raise _invalid_token() from spent
        await self._users.record_login(user)

    async def activate(self, *, uid: str, token: str) -> None:
        """Activate the account of an activation link; StaleTokenError if already active
        (or activated by a simultaneous use of the link). The link covers the time activation
        was requested, which staff (de)activating clears: a link from before is refused as
        invalid, and a deactivated account stays deactivated."""
        user = await self.check_link(uid, token)
        if user.is_active:
            raise StaleTokenError
        if not user.awaits_activation:
            # Deactivated by staff: no link undoes that (a reset link mailed before the
            # deactivation still matches the account, but not its state).
            raise _invalid_token()
        try:
            user = await self._users.activate(user)
        except ChangedMeanwhileError as spent:
            raise StaleTokenError from spent
        self._notices.activated(user)
        await self._audit.record(audit.ACTIVATION, user_id=user.id)

    async def resend_activation(self, email: str) -> None:
        """Mail a new activation link to the user with this email if they await activation
        (never to one deactivated by staff: answered alike, so it tells nobody which)."""
        await self._throttle_recovery(email)
        user = await self._users.find_by_email(email)
        if user is not None and user.awaits_activation:
            self._notices.activation(user)

    async def _throttle_recovery(self, email: str) -> None:
        """Each recovery request mails someone: limited per client and per address (keyed
        by the address as sent, so the limit says nothing of whether it is known)."""
        await self._throttle.hit(RECOVERY, client=caller_address(), account=email_key(email))


def _invalid_token() -> ValidationError:
    """Djoser's answer to a link that is not (or no longer) good for its account."""
    return ValidationError.single("token", "invalid_token_for_user")
