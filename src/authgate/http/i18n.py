"""Choosing the language of an answer from Accept-Language, and wording messages in it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from authgate.http.catalogue import MESSAGES, plural_ru

SUPPORTED = ("en", "ru")


# Django's accept_language_re (django/utils/translation/trans_real.py): a language range and
# an optional q, then a comma or the end; a header it cannot split whole means no preference.
_ACCEPT_LANGUAGE = re.compile(
    r"""
        ([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)
        (?:\s*;\s*q=(0(?:\.[0-9]{,3})?|1(?:\.0{,3})?))?
        (?:\s*,\s*|$)
    """,
    re.VERBOSE,
)
# Django reads at most this much of the header (CVE-2024-39614).
_MAX_HEADER_LENGTH = 500


@lru_cache(maxsize=256)
def negotiate(accept_language: str | None, default: str) -> str:
    """The supported language the client prefers most, else `default`, chosen as Django's
    LocaleMiddleware chooses: by q (q=0 counts, as Django has it), a region falling back to
    its language (`ru-RU` is `ru`), and `*` meaning "the default"."""
    for tag in _ranked(accept_language or ""):
        if tag == "*":
            break
        language = tag.split("-")[0]
        if language in SUPPORTED:
            return language
    return default


def _ranked(header: str) -> list[str]:
    """The language ranges of an Accept-Language header, most wanted first (stable on ties),
    or none if it does not parse (Django's parse_accept_lang_header)."""
    if len(header) > _MAX_HEADER_LENGTH:
        cut = header.rfind(",", 0, _MAX_HEADER_LENGTH)
        if cut <= 0:
            return []
        header = header[:cut]
    pieces = _ACCEPT_LANGUAGE.split(header.lower())
    if pieces[-1]:
        return []
    ranked: list[tuple[str, float]] = []
    for start in range(0, len(pieces) - 1, 3):
        before, tag, quality = pieces[start : start + 3]
        if before:
            return []
        ranked.append((tag, float(quality) if quality else 1.0))
    ranked.sort(key=lambda item: item[1], reverse=True)
    return [tag for tag, _ in ranked]


def translate(code: str, language: str, params: Mapping[str, object] | None = None) -> str:
    """The message `code` in `language` with its parameters filled in."""
    entry = MESSAGES.get(code) or MESSAGES["invalid"]
    text = entry.get(language) or entry["en"]
    if not params:
        return text
    values = {
        k: translate(f"field_{v}", language) if k == "verbose_name" else v
        for k, v in params.items()
    }
    if language == "ru" and "min_length" in values:
        text = text.replace(
            "{characters}",
            plural_ru(int(str(values["min_length"])), ("символ", "символа", "символов")),
        )
    elif "min_length" in values:
        text = text.replace(
            "{characters}", "character" if values["min_length"] == 1 else "characters"
        )
    return text.format(**values)


def word(
    table: Mapping[str, Mapping[str, str]],
    code: str,
    language: str,
    params: Mapping[str, object] | None = None,
    *,
    fallback: str,
) -> str:
    """A dialect's own message `code` (else `fallback`) in `language` (English when it has no
    such text), its placeholders filled in."""
    entry = table.get(code) or table[fallback]
    text = entry.get(language) or entry["en"]
    return text.format(**params) if params else text


def seconds(number: int, language: str) -> str:
    """ "second(s)" after `number`, as in "try again in 5 seconds" (Russian: "через 5 секунд")."""
    if language == "ru":
        return plural_ru(number, ("секунду", "секунды", "секунд"))
    return "second" if number == 1 else "seconds"
