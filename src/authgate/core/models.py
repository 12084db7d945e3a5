"""Values the core returns: frozen records, independent of storage and HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from authgate.core.identity import email_key, username_key, username_skeletons

UNUSABLE_PASSWORD_PREFIX = "!"


@dataclass(frozen=True, slots=True)
class User:
    """A user account as stored (the password field holds a hash, never a password)."""

    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    password_hash: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    role: str
    date_joined: datetime
    last_login: datetime | None
    # When an activation link was last asked for (registration or the user's own email
    # change); None once staff activate or deactivate the account.
    activation_requested_at: datetime | None = None

    @property
    def awaits_activation(self) -> bool:
        """Not yet activated (what activation links serve), as opposed to deactivated by
        staff (inactive, nothing requested): only staff or the CLI undo that."""
        return not self.is_active and self.activation_requested_at is not None

    @property
    def has_usable_password(self) -> bool:
        """False for accounts created without a password (Django's `!` marker)."""
        return not self.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)


@dataclass(frozen=True, slots=True)
class NewUser:
    """What the store needs to create a user."""

    username: str
    username_key: str
    email: str
    email_key: str
    password_hash: str
    is_active: bool
    date_joined: datetime
    first_name: str = ""
    last_name: str = ""
    is_staff: bool = False
    is_superuser: bool = False
    role: str = "USER"
    activation_requested_at: datetime | None = None

    @property
    def username_skeletons(self) -> tuple[str, str]:
        """The look-alike skeletons stored with the user: they follow from the key, so
        whoever builds a NewUser gets them right."""
        return username_skeletons(self.username_key)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An opaque token as stored: its digest, never the token itself."""

    digest: str
    user_id: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request is. A plain Principal was proved by an access JWT; the subclasses say
    which opaque token or browser session proved it, so logging out ends just that."""

    user: User


@dataclass(frozen=True, slots=True)
class TokenPrincipal(Principal):
    """A user and the opaque token that proved it."""

    token: TokenRecord


@dataclass(frozen=True, slots=True)
class SessionPrincipal(Principal):
    """A user and the browser session that proved it (its digest, never the cookie)."""

    session_digest: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One authentication event, as the audit log keeps it: never a password or a token.
    `reason` says why a failure failed, for staff only (never sent to the client)."""

    event: str
    outcome: str  # "success" or "failure"
    created_at: datetime
    user_id: int | None = None
    login: str | None = None
    address: str | None = None
    user_agent: str | None = None
    reason: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which audit entries to read: newest first, at most `limit`, of one user or one event
    when given, older than entry `before_id` when given (paging)."""

    user_id: int | None = None
    event: str | None = None
    before_id: int | None = None
    limit: int = 100

    def params(self) -> dict[str, object]:
        """The query's parameters: the filters that are set, and the limit."""
        values: dict[str, object] = {
            "user_id": self.user_id,
            "event": self.event,
            "before_id": self.before_id,
        }
        return {k: v for k, v in values.items() if v is not None} | {"limit": self.limit}


@dataclass(frozen=True, slots=True)
class UserSearch:
    """Which users to list, by id: those after `after_id` (keyset paging: the last id of the
    page before), at most `limit`, whose username, email, first or last name contains `text`
    ignoring case, taken literally (every user when it is empty)."""

    text: str = ""
    after_id: int = 0
    limit: int = 50

    def folded(self) -> tuple[str, str, str]:
        """The text folded as each column's key is: (as a username key, as an email key,
        lowered for the names)."""
        return username_key(self.text), email_key(self.text), self.text.lower()


@dataclass(frozen=True, slots=True)
class AuditCounts:
    """What the audit log holds for one hour or day (the admin's overview charts): logins that
    succeeded and that failed (throttled ones apart), registrations, lockouts, and logins the
    throttle refused."""

    bucket: datetime  # the hour or day's start, UTC
    logins_succeeded: int = 0
    logins_failed: int = 0
    registrations: int = 0
    lockouts: int = 0
    throttled: int = 0


@dataclass(frozen=True, slots=True)
class OverviewNumbers:
    """The figures an operator checks first: users (and how many are active), opaque tokens
    not expired, browser sessions not expired, and logins locked within the longest lock."""

    users: int
    active_users: int
    tokens: int
    sessions: int
    locked_logins: int


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A browser session as stored: its digest, never the cookie's value."""

    digest: str
    user_id: int
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime
    address: str | None = None
    user_agent: str | None = None


# The users/towns API's records (core/towns.py, core/groups.py, core/directory.py).


@dataclass(frozen=True, slots=True)
class Town:
    """A town as stored."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Group:
    """A named set of permissions."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Permission:
    """Something a user may be allowed to do: a unique codename and a readable name."""

    id: int
    name: str
    codename: str


@dataclass(frozen=True, slots=True)
class UserLinks:
    """The ids a user links to, each ascending."""

    group_ids: tuple[int, ...] = ()
    permission_ids: tuple[int, ...] = ()
    town_ids: tuple[int, ...] = ()


# The many-to-many links between records: a user's towns, groups and own permissions, and a
# group's permissions.
LinkName = Literal["user_towns", "user_groups", "user_permissions", "group_permissions"]
# The overview's buckets of audit counts (AuditCounts.bucket).
AuditBucket = Literal["hour", "day"]
