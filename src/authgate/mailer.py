"""Mailer implementations: SMTP (stdlib smtplib in a thread) and the log, the default."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

from authgate.core.mail import Email, Mailer
from authgate.settings import Settings

log = logging.getLogger("authgate.mail")


class SmtpMailer:
    """Sends mail through an SMTP server."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, email: Email) -> None:
        """Deliver one email without blocking the event loop."""
        await asyncio.to_thread(self._send, email)

    def _send(self, email: Email) -> None:
        s = self._settings
        message = EmailMessage()
        message["From"] = s.mail_from
        message["To"] = email.to
        message["Subject"] = email.subject
        message.set_content(email.body)
        assert s.smtp_host is not None  # noqa: S101 chosen only when set
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username and s.smtp_password:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
            smtp.send_message(message)


class LogMailer:
    """Writes emails to the log, for development without an SMTP server (Django's console
    backend). The links in them are secrets: configure SMTP for anything real."""

    async def send(self, email: Email) -> None:
        """Log the email."""
        log.info("email to %s: %s\n%s", email.to, email.subject, email.body)


def build_mailer(settings: Settings) -> Mailer:
    """SMTP when a host is configured, the log otherwise."""
    return SmtpMailer(settings) if settings.smtp_host else LogMailer()
