"""What to do with each Django user and token: pure decisions, no database.

Users are matched by id. Django's ids are kept, so every foreign key in other services and
every `user_id` claim stays right; an authgate row with the same id is the same person if it
also has the same username (case and compatibility forms ignored) or the same `date_joined`
(a user renamed in Django since the last run). Anything else holding the id is someone else,
and the Django user is skipped rather than merged into them.

On a rerun, Django's values win, except two that authgate may have made newer: a password
hash authgate computed itself (`$argon2id$...`: the user logged in, and their Django hash was
upgraded, or changed their password in authgate) and a later `last_login`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from authgate.constants import USERNAME_MAX_LENGTH
from authgate.core.identity import email_key, username_key, username_skeletons
from authgate.core.models import UNUSABLE_PASSWORD_PREFIX
from authgate.core.passwords import bcrypt_available
from authgate.core.tokens import digest
from authgate.django_import.rows import SourceToken, SourceUser, TargetUser

Action = Literal["insert", "update", "unchanged", "skip"]
PASSWORD_MAX_LENGTH = 255
EMAIL_MAX_LENGTH = 254
AUTHGATE_HASH_PREFIX = "$argon2"
# Django's hashers authgate verifies (and upgrades to argon2id at the next login).
VERIFIED_ALGORITHMS = frozenset({"pbkdf2_sha256", "argon2"})
BCRYPT_ALGORITHMS = frozenset({"bcrypt_sha256", "bcrypt"})
# Columns compared on a rerun, Django's value winning.
PROFILE_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
)


@dataclass(frozen=True, slots=True)
class UserPlan:
    """The decision for one user: the columns to insert, or those to change, or why not."""

    user: SourceUser
    action: Action
    values: Mapping[str, object] = field(default_factory=dict)
    reason: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenPlan:
    """The decision for one DRF token."""

    token: SourceToken
    action: Action
    digest: str = ""
    expires_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Owner:
    """Who holds a unique key: a user id and the spelling to show in the summary."""

    id: int
    shown: str


class KeyOwners:
    """Who holds each username and email key: authgate's rows as read, overridden by this
    run's own decisions (which a dry run never writes, and a batch has not written yet)."""

    def __init__(self) -> None:
        self._stored: dict[tuple[str, str], Owner] = {}
        self._claimed: dict[tuple[str, str], Owner] = {}
        self._released: set[tuple[str, str, int]] = set()

    def load(self, rows: Iterable[TargetUser]) -> None:
        """Remember what authgate's database says (read per batch)."""
        for row in rows:
            owner = Owner(row.id, row.username)
            for kind, key in _username_keys(row.username_key).items():
                self._stored[(kind, key)] = owner
            if row.email_key:
                self._stored[("email", row.email_key)] = Owner(row.id, row.email)

    def owner(self, kind: str, key: str) -> Owner | None:
        """The holder of a key, if anyone holds it."""
        claimed = self._claimed.get((kind, key))
        if claimed is not None:
            return claimed
        stored = self._stored.get((kind, key))
        if stored is None or (kind, key, stored.id) in self._released:
            return None
        return stored

    def claim(self, kind: str, key: str, owner: Owner, previous_key: str | None) -> None:
        """`owner` holds `key` from now on, and no longer `previous_key` (a rename)."""
        if previous_key is not None and previous_key != key:
            self._released.add((kind, previous_key, owner.id))
            self._claimed.pop((kind, previous_key), None)
        if key:
            self._claimed[(kind, key)] = owner


def _username_keys(key: str) -> dict[str, str]:
    """What a username key holds, by kind: "username" (the key itself) and its two look-alike
    skeletons (named by their columns), each unique in authgate."""
    lower, upper = username_skeletons(key)
    return {"username": key, "username_skeleton_lower": lower, "username_skeleton_upper": upper}


def same_person(row: TargetUser, user: SourceUser) -> bool:
    """Whether authgate's row with this id is this Django user (imported earlier)."""
    return row.username_key == username_key(user.username) or row.date_joined == user.date_joined


def password_notes(password: str) -> tuple[str, ...]:
    """What the summary should say about a hash authgate will store as it is."""
    if password.startswith(UNUSABLE_PASSWORD_PREFIX):
        return ("unusable password (Django's '!'), kept unusable",)
    if not password:
        return ("no password hash: the user cannot log in until they reset it",)
    if password.startswith(AUTHGATE_HASH_PREFIX):
        return ()
    algorithm = password.split("$", 1)[0]
    if algorithm in VERIFIED_ALGORITHMS:
        return ()
    if algorithm in BCRYPT_ALGORITHMS:
        if bcrypt_available():
            return ()
        return ("bcrypt hash: these users log in once the 'bcrypt' package is installed",)
    return (
        f"password hash format {algorithm!r} is not verified by authgate:"
        " the user must reset their password",
    )


def plan_user(
    user: SourceUser,
    row: TargetUser | None,
    owners: KeyOwners,
    *,
    now: datetime,
    blank_duplicate_emails: bool,
) -> UserPlan:
    """Decide for one user, and record in `owners` the keys it takes."""
    problem = _unstorable(user)
    if problem:
        return UserPlan(user, "skip", reason=problem)
    if row is not None and not same_person(row, user):
        return UserPlan(
            user, "skip", reason=f"id {user.id} already belongs to authgate user {row.username!r}"
        )
    ukeys = _username_keys(username_key(user.username))
    # A name the user has in authgate already is theirs, even where an older user looked like it
    # before skeletons came (migration 0009 left them both).
    kept = row is not None and row.username_key == ukeys["username"]
    for kind, key in ukeys.items():
        holder = None if kept else owners.owner(kind, key)
        if holder is not None and holder.id != user.id:
            how = "collides case-insensitively with" if kind == "username" else "looks like"
            reason = f"username {how} {holder.shown!r} (id {holder.id})"
            return UserPlan(user, "skip", reason=reason)
    ukey = ukeys["username"]
    email, notes = user.email, list(password_notes(user.password))
    ekey = email_key(email) if email else ""
    holder = owners.owner("email", ekey) if ekey else None
    if holder is not None and holder.id != user.id:
        taken = f"email {email!r} is already used by {holder.shown!r} (id {holder.id})"
        if not blank_duplicate_emails:
            return UserPlan(user, "skip", reason=taken)
        email, ekey = "", ""
        notes.append("email already used by another user: imported without an email")
    values: dict[str, object] = {
        "username": user.username,
        "username_key": ukey,
        "email": email,
        "email_key": ekey,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    }
    previous = {} if row is None else _username_keys(row.username_key)
    for kind, key in ukeys.items():
        owners.claim(kind, key, Owner(user.id, user.username), previous.get(kind))
    owners.claim("email", ekey, Owner(user.id, email), None if row is None else row.email_key)
    skeletons = {kind: key for kind, key in ukeys.items() if kind != "username"}
    if row is None:
        values |= skeletons | {
            "id": user.id,
            "password": user.password,
            "date_joined": user.date_joined or now,
            "last_login": user.last_login,
        }
        return UserPlan(user, "insert", values, notes=tuple(notes))
    changes = _changes(row, user, values)
    if "username_key" in changes:
        changes |= skeletons
    if "password" not in changes:
        notes = [n for n in notes if n not in password_notes(user.password)]
    return UserPlan(user, "update" if changes else "unchanged", changes, notes=tuple(notes))


def _unstorable(user: SourceUser) -> str:
    """Why authgate's columns cannot hold this user, if they cannot."""
    if not user.username.strip():
        return "empty username"
    if len(user.username) > USERNAME_MAX_LENGTH:
        return f"username longer than {USERNAME_MAX_LENGTH} characters"
    if len(user.email) > EMAIL_MAX_LENGTH:
        return f"email longer than {EMAIL_MAX_LENGTH} characters"
    if len(user.password) > PASSWORD_MAX_LENGTH:
        return f"password hash longer than {PASSWORD_MAX_LENGTH} characters"
    return ""


def _changes(row: TargetUser, user: SourceUser, values: Mapping[str, object]) -> dict[str, object]:
    """The columns of `row` that differ from Django's, minus those authgate made newer."""
    current = {
        "username": row.username,
        "username_key": row.username_key,
        "email": row.email,
        "email_key": row.email_key,
        "first_name": row.first_name,
        "last_name": row.last_name,
        "is_active": row.is_active,
        "is_staff": row.is_staff,
        "is_superuser": row.is_superuser,
    }
    changes = {name: value for name, value in values.items() if current[name] != value}
    if row.password != user.password and not row.password.startswith(AUTHGATE_HASH_PREFIX):
        changes["password"] = user.password
    if user.date_joined is not None and row.date_joined != user.date_joined:
        changes["date_joined"] = user.date_joined
    if user.last_login is not None and (row.last_login is None or row.last_login < user.last_login):
        changes["last_login"] = user.last_login
    return changes


def plan_token(
    token: SourceToken,
    *,
    imported_users: set[int],
    stored_owner: int | None,
    now: datetime,
    ttl: timedelta | None,
) -> TokenPlan:
    """Decide for one DRF token; `stored_owner` is the user of the digest already stored."""
    if token.user_id not in imported_users:
        return TokenPlan(token, "skip", reason=f"its user (id {token.user_id}) was skipped")
    token_digest = digest(token.key)
    if stored_owner == token.user_id:
        return TokenPlan(token, "unchanged", token_digest)
    if stored_owner is not None:
        reason = f"the same token already belongs to authgate user id {stored_owner}"
        return TokenPlan(token, "skip", token_digest, reason=reason)
    expires_at = None if ttl is None else token.created + ttl
    if expires_at is not None and expires_at <= now:
        reason = "older than AUTHGATE_TOKEN_TTL_SECONDS: it would be expired in authgate"
        return TokenPlan(token, "skip", token_digest, reason=reason)
    return TokenPlan(token, "insert", token_digest, expires_at)
