"""The emails authgate sends (activation, resets, confirmations) and the Mailer seam."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Email:
    """One plain-text message."""

    to: str
    subject: str
    body: str


class Mailer(Protocol):
    """Delivers emails (SMTP in production, the log by default)."""

    async def send(self, email: Email) -> None:
        """Deliver one email."""
        ...


@dataclass(frozen=True, slots=True)
class LinkTemplates:
    """Where links in emails point: always the configured frontend, never the request's Host."""

    frontend_url: str
    site_name: str
    activation: str
    password_reset: str
    username_reset: str

    def link(self, path_template: str, *, uid: str, token: str) -> str:
        """`frontend_url` joined with a path template filled with uid and token."""
        path = path_template.format(uid=uid, token=token)
        return f"{self.frontend_url.rstrip('/')}/{path.lstrip('/')}"


def activation_email(links: LinkTemplates, to: str, *, uid: str, token: str) -> Email:
    """The activation link for a new account."""
    url = links.link(links.activation, uid=uid, token=token)
    return Email(
        to,
        f"Account activation on {links.site_name}",
        f"Please go to the following page to activate your account:\n\n{url}\n",
    )


def password_reset_email(links: LinkTemplates, to: str, *, uid: str, token: str) -> Email:
    """The password reset link."""
    url = links.link(links.password_reset, uid=uid, token=token)
    return Email(
        to,
        f"Password reset on {links.site_name}",
        "You're receiving this email because you requested a password reset for your user"
        f" account at {links.site_name}.\n\nPlease go to the following page and choose a new"
        f" password:\n\n{url}\n",
    )


def username_reset_email(links: LinkTemplates, to: str, *, uid: str, token: str) -> Email:
    """The username reset link."""
    url = links.link(links.username_reset, uid=uid, token=token)
    return Email(
        to,
        f"Username reset on {links.site_name}",
        "You're receiving this email because you requested a username reset for your user"
        f" account at {links.site_name}.\n\nPlease go to the following page and choose a new"
        f" username:\n\n{url}\n",
    )


def notice_email(links: LinkTemplates, to: str, *, what: str) -> Email:
    """A confirmation that something about the account changed."""
    return Email(to, f"{what} on {links.site_name}", f"{what} on {links.site_name}.\n")
