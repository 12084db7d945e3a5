"""Emails about an account, composed and sent in the background so that an answer's timing
never depends on whether a mail went out (which would tell whether an email is registered)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from authgate.core.clock import Clock
from authgate.core.confirmations import ConfirmationTokens, encode_uid
from authgate.core.mail import (
    Email,
    LinkTemplates,
    Mailer,
    activation_email,
    notice_email,
    reset_email,
)
from authgate.core.models import User

log = logging.getLogger(__name__)


class Notices:
    """Which emails go out, decided by settings; each one sent off the request's path."""

    def __init__(
        self,
        *,
        mailer: Mailer,
        links: LinkTemplates,
        confirmations: ConfirmationTokens,
        clock: Clock,
        send_confirmation: bool,
        password_changed: bool,
        username_changed: bool,
    ) -> None:
        self._mailer = mailer
        self._links = links
        self._confirmations = confirmations
        self._clock = clock
        self._send_confirmation = send_confirmation
        self._password_changed = password_changed
        self._username_changed = username_changed
        self._pending: set[asyncio.Task[None]] = set()

    def _uid_and_token(self, user: User) -> dict[str, str]:
        return {
            "uid": encode_uid(user.id),
            "token": self._confirmations.make(user, self._clock.now()),
        }

    def activation(self, user: User) -> None:
        """Mail the activation link."""
        self._send(activation_email(self._links, user.email, **self._uid_and_token(user)))

    def password_reset(self, user: User) -> None:
        """Mail a password reset link."""
        self._send(
            reset_email(self._links, user.email, field="password", **self._uid_and_token(user))
        )

    def username_reset(self, user: User) -> None:
        """Mail a username reset link."""
        self._send(
            reset_email(self._links, user.email, field="username", **self._uid_and_token(user))
        )

    def activated(self, user: User) -> None:
        """Confirm an activation, when configured."""
        if self._send_confirmation:
            self._send(notice_email(self._links, user.email, what="Account activated"))

    def password_changed(self, user: User) -> None:
        """Confirm a password change, when configured."""
        if self._password_changed:
            self._send(notice_email(self._links, user.email, what="Password changed"))

    def username_changed(self, user: User) -> None:
        """Confirm a username change, when configured."""
        if self._username_changed:
            self._send(notice_email(self._links, user.email, what="Username changed"))

    def _send(self, email: Email) -> None:
        if not email.to:
            return
        self._spawn(self._deliver(email))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, email: Email) -> None:
        try:
            await self._mailer.send(email)
        except Exception:
            log.exception("could not send %r", email.subject)

    async def drain(self) -> None:
        """Wait for every email still being sent (at shutdown)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
