"""How usernames and emails are normalised, validated and compared."""

from __future__ import annotations

import re
import unicodedata

from authgate.constants import USERNAME_MAX_LENGTH
from authgate.core.errors import Message

# Django's UnicodeUsernameValidator.
_USERNAME = re.compile(r"^[\w.@+-]+\Z")


def normalize_username(username: str) -> str:
    """The username as stored: NFKC-normalised, as Django's normalize_username."""
    return unicodedata.normalize("NFKC", username)


def username_key(username: str) -> str:
    """The unique key of a username: NFKC then casefold, so `Admin` and `admin` collide."""
    return normalize_username(username).casefold()


def normalize_email(email: str) -> str:
    """The email as stored: NFKC, domain lowercased (Django's normalize_email)."""
    email = unicodedata.normalize("NFKC", email.strip())
    local, at, domain = email.rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else email


def email_key(email: str) -> str:
    """The unique key of an email: NFKC then casefold; empty for no email."""
    return normalize_email(email).casefold()


def username_format_problems(username: str) -> list[Message]:
    """Django's rules for a username: at most 150 characters of letters, digits and @.+-_."""
    if len(username) > USERNAME_MAX_LENGTH:
        return [Message("max_length", {"max_length": USERNAME_MAX_LENGTH})]
    if not _USERNAME.match(normalize_username(username)):
        return [Message("invalid_username")]
    return []
