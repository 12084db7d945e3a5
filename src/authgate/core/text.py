"""What a store can hold: text without NUL or lone surrogates, and signed 64-bit integers.

PostgreSQL's text type cannot hold NUL (U+0000), and a lone surrogate (U+D800 to U+DFFF) is no
Unicode scalar value, so no UTF-8 encoder (a database driver's, the JSON renderer's, the
password hasher's) can encode it. Ids are BIGINT on every database. Every way into the service
(bodies, query strings, forms) checks its input with these rules before the core sees it, so
such input is a 400 in each dialect's own shape, never a 500 from deep inside.
"""

from __future__ import annotations

import re

from authgate.core.errors import Message

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problems(value: str) -> list[Message]:
    """Why `value` cannot be stored, as DRF's CharField words it (its null-character check,
    then its surrogate check, each once); empty for text that can."""
    if _UNSTORABLE.search(value) is None:  # the usual case: one scan in C
        return []
    problems = [Message("null_characters")] if "\x00" in value else []
    surrogate = _SURROGATE.search(value)
    if surrogate is not None:
        code_point = f"{ord(surrogate.group()):X}"
        problems.append(Message("surrogate_characters", {"code_point": code_point}))
    return problems


def integer_problem(value: int) -> Message | None:
    """Why `value` cannot be stored as an integer column, if it cannot (DRF's wording)."""
    if value > BIGINT_MAX:
        return Message("max_value", {"max_value": BIGINT_MAX})
    if value < BIGINT_MIN:
        return Message("min_value", {"min_value": BIGINT_MIN})
    return None
