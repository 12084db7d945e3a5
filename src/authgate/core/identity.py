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


# Letters that casefolding leaves apart from a look-alike in the same (Latin) script: the
# Turkish dotless ı, and the combining dot that İ folds to ("i̇").
_LATIN_LOOKALIKES = str.maketrans({"\u0131": "i", "\u0307": None})
# Scripts that names legitimately mix with Latin (Japanese writes Han, kana and Latin; Chinese
# and Korean names mix Han with Bopomofo or Hangul); any other mix, such as Latin with a
# Cyrillic or Greek letter, is the classic look-alike of another account (UTS #39).
_MIXABLE = frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"})


def username_key(username: str) -> str:
    """The unique key of a username: NFKC then casefold, so `Admin` and `admin` collide, with
    the Turkish i's folded too, so `admın` and `admİn` collide with `admin`."""
    return normalize_username(username).casefold().translate(_LATIN_LOOKALIKES)


def scripts_of(text: str) -> set[str]:
    """The scripts of the letters of `text` (digits and punctuation belong to none), named by
    the first word of each letter's Unicode name (LATIN, CYRILLIC, GREEK, CJK, ...)."""
    scripts = set()
    # Compatibility forms first: the Kelvin sign is a K, fullwidth letters are Latin ones.
    for char in unicodedata.normalize("NFKC", text):
        if char.isalpha():
            name = unicodedata.name(char, "")
            scripts.add(name.split(" ", 1)[0] if name else "UNKNOWN")
    return scripts


def mixes_scripts(text: str) -> bool:
    """True when `text` mixes letters of scripts that do not go together (Latin with Cyrillic,
    say): a name made to look like another one."""
    scripts = scripts_of(text)
    return len(scripts) > 1 and not scripts <= _MIXABLE


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
    normalized = normalize_username(username)
    if not _USERNAME.match(normalized) or mixes_scripts(normalized):
        return [Message("invalid_username")]
    return []
