"""Who a request's token belongs to, as a guard establishes it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

TokenKind = Literal["opaque", "jwt"]


@dataclass(frozen=True, slots=True)
class Identity:
    """The holder of a verified token.

    `user_id` is authgate's user id as text (SimpleJWT's `user_id` claim is a string, the
    Djoser API's `id` a number: one type for both). `username` and `email` come with opaque
    tokens (authgate's `users/me/` answer); a JWT carries only the id, so they are None there
    unless the token names them. `claims` holds the verified JWT claims, or the `users/me/`
    record for an opaque token.
    """

    user_id: str
    kind: TokenKind
    username: str | None = None
    email: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)
