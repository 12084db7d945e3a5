"""The emails authgate sends (activation, resets, confirmations) and the Mailer seam."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


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


def reset_email(
    links: LinkTemplates, to: str, *, field: Literal["password", "username"], uid: str, token: str
) -> Email:
    """The link to choose a new password or username."""
    path = links.password_reset if field == "password" else links.username_reset
    url = links.link(path, uid=uid, token=token)
    return Email(
        to,
        f"{field.capitalize()} reset on {links.site_name}",
        f"You're receiving this email because you requested a {field} reset for your user"
        f" account at {links.site_name}.\n\nPlease go to the following page and choose a new"
        f" {field}:\n\n{url}\n",
    )


def notice_email(links: LinkTemplates, to: str, *, what: str) -> Email:
    """A confirmation that something about the account changed."""
    return Email(to, f"{what} on {links.site_name}", f"{what} on {links.site_name}.\n")
