"""How usernames and emails are normalised, validated and compared."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import unicodedata
from functools import cache

from authgate.constants import USERNAME_MAX_LENGTH
from authgate.core import uts39
from authgate.core.errors import Message

# A broken install: refuse to run without the look-alike check. Looked up, not imported: ICU
# loads on the first username check (_uts39).
if importlib.util.find_spec("icu") is None:
    raise ImportError(
        "authgate needs PyICU's 'icu' module for its look-alike username check; reinstall"
        " authgate (pip brings it as the pyicu-wheels package)"
    )

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


@cache
def _uts39() -> uts39.Uts39:
    """ICU's implementation of UTS #39 (confusables data and identifier profile, from Unicode):
    the confusable skeletons, and the General Security Profile's characters recommended in
    identifiers.

    Loaded on first use, not at import: ICU's libraries and data are some 5 MiB of a serving
    worker's memory (bench/memory.py; 11 through PyICU, core/uts39.py), which only a new or
    changed username needs; a login, a token or a JWT never does. Building them twice in a
    race is harmless: one is kept."""
    return uts39.load()


# Django's username punctuation, beside letters and digits.
_PUNCTUATION = str.maketrans(dict.fromkeys(".@+-_"))


def username_skeletons(key: str) -> tuple[str, str]:
    """The UTS #39 confusable skeletons of a username key (username_key): two names look alike
    when either skeleton is the same. Confusability depends on case (`ΑΒΕ` looks like `ABE` but
    `αβε` not like `abe`; `I` looks like `l` but `i` does not), and usernames ignore case: so one
    skeleton of the key's lower case and one of its upper case. Stored as SHA-256 digests, of
    a fixed length that every database index takes (a skeleton can be 7 times its name)."""
    checks = _uts39()
    lower = checks.skeleton(key).casefold()
    upper = checks.skeleton(key.upper())
    return _digest(lower), _digest(upper)


def username_columns(username: str) -> dict[str, str]:
    """The stored keys of a (normalised) username: its unique key and its two skeletons, each
    unique too (store/schema.py), so that a look-alike cannot slip in even by a race."""
    key = username_key(username)
    lower, upper = username_skeletons(key)
    return {
        "username_key": key,
        "username_skeleton_lower": lower,
        "username_skeleton_upper": upper,
    }


def _digest(skeleton: str) -> str:
    return hashlib.sha256(skeleton.encode("utf-8", "surrogatepass")).hexdigest()


def has_unrecommended_characters(text: str) -> bool:
    """True when `text` has a letter or digit outside UTS #39's identifier profile: obsolete,
    technical or rarely used characters, such as the small capital `ᴀ` of `ᴀce`, which no
    confusables table lists as an `a`."""
    return not _uts39().all_recommended(text.translate(_PUNCTUATION))


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
    if (
        not _USERNAME.match(normalized)
        or mixes_scripts(normalized)
        or has_unrecommended_characters(normalized)
    ):
        return [Message("invalid_username")]
    return []
