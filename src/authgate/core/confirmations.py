"""Single-purpose links for activation and resets: Django's uid + `<timestamp>-<hmac>` shape.

A link's HMAC covers the user's password hash, last login, username and email, so it dies as
soon as any of them changes (a used reset link changes the password; a confirm sets last_login),
and when activation was last requested, so an activation link dies when staff (de)activate the
account or its owner is asked to activate it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from authgate.core.models import User

_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def encode_uid(user_id: int) -> str:
    """Django's `urlsafe_base64_encode(str(pk))`, without padding."""
    return base64.urlsafe_b64encode(str(user_id).encode()).decode("ascii").rstrip("=")


def decode_uid(uid: str) -> int | None:
    """The user id inside a uid, or None if it is not one."""
    try:
        text = base64.urlsafe_b64decode(uid + "=" * (-len(uid) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and len(text) < 19 else None


def _to_base36(number: int) -> str:
    digits = ""
    while True:
        number, remainder = divmod(number, 36)
        digits = _DIGITS36[remainder] + digits
        if number == 0:
            return digits


def _from_base36(text: str) -> int | None:
    if not text or len(text) > 13 or any(c not in _DIGITS36 for c in text):
        return None
    return int(text, 36)


class ConfirmationTokens:
    """Makes and checks the `token` half of activation and reset links."""

    def __init__(self, secret: str, *, ttl_seconds: int) -> None:
        self._key = hashlib.sha256(b"authgate.confirmations\x00" + secret.encode()).digest()
        self._ttl_seconds = ttl_seconds

    def make(self, user: User, now: datetime) -> str:
        """A token for `user`, valid until its state changes or the TTL runs out."""
        return self._make(user, int((now - _EPOCH).total_seconds()))

    def check(self, user: User, token: str, now: datetime) -> bool:
        """Whether `token` was made for `user` in its current state and is still fresh."""
        timestamp = _from_base36(token.partition("-")[0])
        if timestamp is None:
            return False
        if not hmac.compare_digest(self._make(user, timestamp), token):
            return False
        return (now - _EPOCH).total_seconds() - timestamp <= self._ttl_seconds

    def _make(self, user: User, timestamp: int) -> str:
        last_login = (
            "" if user.last_login is None else user.last_login.isoformat(timespec="seconds")
        )
        state = f"{user.id}\x00{user.password_hash}\x00{last_login}\x00{timestamp}"
        state += f"\x00{user.username}\x00{user.email}"
        if user.activation_requested_at is not None:
            # Appended only when set, so links of accounts that never had one are unchanged.
            state += f"\x00{user.activation_requested_at.isoformat()}"
        digest = hmac.new(self._key, state.encode(), hashlib.sha256).hexdigest()[::2]
        return f"{_to_base36(timestamp)}-{digest}"
