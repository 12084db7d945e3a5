"""Choosing the language of an answer from Accept-Language, and wording messages in it."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from authgate.http.catalogue import MESSAGES, plural_ru

SUPPORTED = ("en", "ru")


@lru_cache(maxsize=256)
def negotiate(accept_language: str | None, default: str) -> str:
    """The supported language the client prefers most, else `default`."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, quality = item.strip().partition(";")
        try:
            weight = float(quality.strip().removeprefix("q=")) if quality else 1.0
        except ValueError:
            continue
        ranked.append((-weight, position, tag.strip().lower().split("-")[0]))
    for weight, _, language in sorted(ranked):
        if language in SUPPORTED and weight < 0:
            return language
    return default


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
