"""The text of every query, once, with :name parameters (sqlite3 takes them as written; the
PostgreSQL driver rewrites them to $n, once per text). Where the two databases differ, a
function or table here takes the dialect."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from authgate.core.models import AuditBucket, AuditQuery, LinkName

# Which database a query is written for (store/driver.py's Driver.dialect).
Dialect = Literal["sqlite", "postgresql"]

USER_COLUMNS = (
    "id, username, email, first_name, last_name, password, is_active, is_staff, is_superuser,"
    " role, date_joined, last_login, activation_requested_at"
)
_USER_COLUMNS_OF_U = ", ".join(f"u.{c.strip()}" for c in USER_COLUMNS.split(","))

INSERT_USER = (
    "INSERT INTO auth_user (username, username_key, email, email_key, first_name, last_name,"
    " password, is_active, is_staff, is_superuser, role, date_joined, activation_requested_at,"
    " username_skeleton_lower, username_skeleton_upper)"
    " VALUES (:username, :username_key, :email, :email_key, :first_name, :last_name,"
    " :password_hash, :is_active, :is_staff, :is_superuser, :role, :date_joined,"
    " :activation_requested_at, :username_skeleton_lower, :username_skeleton_upper)"
    " RETURNING id"
)
USER_BY_ID = f"SELECT {USER_COLUMNS} FROM auth_user WHERE id = :id"  # noqa: S608 constant text
USER_BY_USERNAME_KEY = f"SELECT {USER_COLUMNS} FROM auth_user WHERE username_key = :key"  # noqa: S608
# Whether a username, or a look-alike of it, is taken: each column has its unique index.
USERNAME_TAKEN = (
    "SELECT 1 FROM auth_user WHERE username_key = :username_key"
    " OR username_skeleton_lower = :username_skeleton_lower"
    " OR username_skeleton_upper = :username_skeleton_upper LIMIT 1"
)
# Users who looked like an older one when the skeletons came (migration 0009): few, if any.
USERS_WITHOUT_SKELETON = (
    "SELECT id, username_key, username_skeleton_lower, username_skeleton_upper FROM auth_user"
    " WHERE username_skeleton_lower IS NULL OR username_skeleton_upper IS NULL ORDER BY id"
)
USER_BY_EMAIL_KEY = f"SELECT {USER_COLUMNS} FROM auth_user WHERE email_key = :key"  # noqa: S608
ALL_USERS = f"SELECT {USER_COLUMNS} FROM auth_user ORDER BY id"  # noqa: S608
# The admin's search (store/rows.py user_search binds it): a LIKE over each column, with
# the escape character below; usernames and emails by their normalised keys, names lowered
# (SQLite's LOWER is Python's str.lower there, see drivers/sqlite.py, so both databases fold alike).
LIKE_ESCAPE = "\\"
_USER_MATCHES = " OR ".join(
    f"{column} LIKE :{pattern} ESCAPE '{LIKE_ESCAPE}'"
    for column, pattern in (
        ("username_key", "username_pattern"),
        ("email_key", "email_pattern"),
        ("LOWER(first_name)", "name_pattern"),
        ("LOWER(last_name)", "name_pattern"),
    )
)
DELETE_USER = "DELETE FROM auth_user WHERE id = :id"

# The hot path: one primary-key read joined to its user.
PRINCIPAL_BY_TOKEN_DIGEST = (
    f"SELECT {_USER_COLUMNS_OF_U}, t.created_at AS token_created_at,"  # noqa: S608
    " t.expires_at AS token_expires_at, t.last_used_at AS token_last_used_at"
    " FROM auth_token t JOIN auth_user u ON u.id = t.user_id WHERE t.digest = :digest"
)
INSERT_TOKEN = (
    "INSERT INTO auth_token (digest, user_id, created_at, expires_at)"
    " VALUES (:digest, :user_id, :created_at, :expires_at)"
)
# A login's token, stored only while its user is active with the password hash the login
# verified: a password change, deactivation or deletion that landed meanwhile leaves no token.
# PostgreSQL: FOR SHARE holds the user row until the token is in, so a change either commits
# first (and no row matches) or waits and then revokes the token with the user's others.
# SQLite's one writer runs the statement alone.
_INSERT_TOKEN_IF_VERIFIED = (
    "INSERT INTO auth_token (digest, user_id, created_at, expires_at)"
    " SELECT :digest, id, :created_at, :expires_at FROM auth_user"
    " WHERE id = :user_id AND is_active AND password = :password"
)
INSERT_TOKEN_IF_VERIFIED: dict[Dialect, str] = {
    "sqlite": _INSERT_TOKEN_IF_VERIFIED,
    "postgresql": _INSERT_TOKEN_IF_VERIFIED + " FOR SHARE",
}
TOUCH_TOKEN = "UPDATE auth_token SET last_used_at = :at WHERE digest = :digest"
DELETE_TOKEN = "DELETE FROM auth_token WHERE digest = :digest"
DELETE_USER_TOKENS = "DELETE FROM auth_token WHERE user_id = :user_id"

APPEND_REVOCATION = "INSERT INTO revocation (user_id, created_at) VALUES (:user_id, :created_at)"
# Run before APPEND_REVOCATION in its transaction. PostgreSQL's ids come from a sequence and
# concurrent inserts could commit out of id order, so a reader past id N would miss a
# later-committed N-1: the lock orders the commits. SQLite's one writer orders them already.
REVOCATION_ORDER_LOCK: dict[Dialect, tuple[str, ...]] = {
    "sqlite": (),
    "postgresql": ("LOCK TABLE revocation IN SHARE ROW EXCLUSIVE MODE",),
}
# Alembic's own table: one row, the revision the schema is at (absent before the first migration).
SCHEMA_REVISION = "SELECT version_num FROM alembic_version"
LAST_REVOCATION_ID = "SELECT COALESCE(MAX(id), 0) FROM revocation"
REVOCATIONS_AFTER = "SELECT id, user_id FROM revocation WHERE id > :after ORDER BY id"
# The newest row always stays, so MAX(id) (where a new reader starts) never goes back.
PRUNE_REVOCATIONS = (
    "DELETE FROM revocation WHERE created_at < :before AND id < (SELECT MAX(id) FROM revocation)"
)

# JWTs (core/jwt.py). A used refresh token's jti goes in once: the insert that finds it
# already there is the reuse, so two concurrent refreshes cannot both succeed.
BLACKLIST_JTI = (
    "INSERT INTO jwt_blacklist (jti, user_id, expires_at, created_at)"
    " VALUES (:jti, :user_id, :expires_at, :created_at) ON CONFLICT (jti) DO NOTHING"
)
JTI_BLACKLISTED = "SELECT 1 FROM jwt_blacklist WHERE jti = :jti"
JTI_USED_AT = "SELECT created_at FROM jwt_blacklist WHERE jti = :jti"
PRUNE_JWT_BLACKLIST = "DELETE FROM jwt_blacklist WHERE expires_at < :before"
END_JWT_SESSION = (
    "INSERT INTO jwt_ended_session (sid, user_id, expires_at)"
    " VALUES (:sid, :user_id, :expires_at) ON CONFLICT (sid) DO NOTHING"
)
PRUNE_JWT_ENDED_SESSIONS = "DELETE FROM jwt_ended_session WHERE expires_at < :before"
# A JWT's user, their JWT generation and their ended logins (a row per ended login, one with a
# NULL `ended_sid` when there is none), in one read.
JWT_SUBJECT = (
    f"SELECT {_USER_COLUMNS_OF_U}, COALESCE(v.version, 0) AS jwt_version,"  # noqa: S608
    " e.sid AS ended_sid"
    " FROM auth_user u LEFT JOIN jwt_token_version v ON v.user_id = u.id"
    " LEFT JOIN jwt_ended_session e ON e.user_id = u.id WHERE u.id = :id"
)
BUMP_JWT_VERSION = (
    "INSERT INTO jwt_token_version (user_id, version) VALUES (:user_id, 1)"
    " ON CONFLICT (user_id) DO UPDATE SET version = jwt_token_version.version + 1"
    " RETURNING version"
)


def like_contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere in a value, its wildcards (`%`, `_`) and the
    escape character itself taken literally."""
    for special in (LIKE_ESCAPE, "%", "_"):  # the escape character first, or it doubles
        text = text.replace(special, LIKE_ESCAPE + special)
    return f"%{text}%"


def search_users(*, matching: bool) -> str:
    """Users by id after :after_id, at most :limit; `matching` adds the search of
    _USER_MATCHES (else every user is listed)."""
    where = f"id > :after_id AND ({_USER_MATCHES})" if matching else "id > :after_id"
    return f"SELECT {USER_COLUMNS} FROM auth_user WHERE {where} ORDER BY id LIMIT :limit"  # noqa: S608 constant text


# auth_user's columns, in the schema's order (a test holds this to store/schema.py, which serving
# does not import: SQLAlchemy costs a worker 11 MB).
AUTH_USER_COLUMNS = (
    "id",
    "username",
    "username_key",
    "email",
    "email_key",
    "first_name",
    "last_name",
    "password",
    "is_active",
    "is_staff",
    "is_superuser",
    "role",
    "date_joined",
    "last_login",
    "activation_requested_at",
    "username_skeleton_lower",
    "username_skeleton_upper",
)
# Columns update_user may change; anything else is refused before SQL is built.
UPDATABLE_USER_COLUMNS = frozenset(AUTH_USER_COLUMNS) - {"id", "date_joined"}


def update_user(columns: list[str]) -> str:
    """UPDATE of the given columns of one user, returning its sql.USER_COLUMNS (no row: the
    user is gone); `columns` must be UPDATABLE_USER_COLUMNS."""
    return _update_user(columns) + _RETURNING_USER


def update_user_if(columns: list[str], expected: Mapping[str, object]) -> str:
    """update_user, only while each `expected` column still holds its value (bound as
    :was_<column>; None is IS NULL): a compare-and-set, of racing writers exactly one wins."""
    unknown = set(expected) - set(AUTH_USER_COLUMNS)
    if unknown or not expected:
        raise ValueError(f"cannot compare columns {sorted(unknown)}")
    conditions = "".join(
        f" AND {c} IS NULL" if value is None else f" AND {c} = :was_{c}"
        for c, value in expected.items()
    )
    return _update_user(columns) + conditions + _RETURNING_USER


_RETURNING_USER = f" RETURNING {USER_COLUMNS}"


def with_login_token(update: str, dialect: Dialect) -> tuple[str, ...]:
    """A login's writes with its new token: `update` (returning the user) then INSERT_TOKEN,
    as the statements of one transaction, the first returning the user. PostgreSQL's is one
    statement (a data-modifying WITH: one round trip, the token in only if the update found
    its row); SQLite has no such WITH, and runs the two as one job of its writer."""
    if dialect == "sqlite":
        return update, INSERT_TOKEN
    return (
        f"WITH u AS ({update}), t AS (INSERT INTO auth_token (digest, user_id, created_at,"  # noqa: S608 allow-listed
        " expires_at) SELECT :digest, id, :created_at, :expires_at FROM u) SELECT * FROM u",
    )


@cache
def login_writes(
    columns: tuple[str, ...], dialect: Dialect, *, with_token: bool
) -> tuple[str, ...]:
    """A login's statements (SqlStore.record_login): update_user_if of `columns` while
    the password is the hash the login verified (:was_password) and the user is active
    (:was_is_active), then with_login_token's insert when `with_token`. Built once per
    set of columns (a login changes one of two), not per login."""
    update = update_user_if(list(columns), {"password": "", "is_active": True})
    return with_login_token(update, dialect) if with_token else (update,)


def _update_user(columns: list[str]) -> str:
    unknown = set(columns) - UPDATABLE_USER_COLUMNS
    if unknown or not columns:
        raise ValueError(f"cannot update columns {sorted(unknown)}")
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    return f"UPDATE auth_user SET {assignments} WHERE id = :id"  # noqa: S608 allow-listed


def expected_params(expected: Mapping[str, object]) -> dict[str, object]:
    """The :was_<column> parameters of update_user_if (IS NULL conditions bind nothing)."""
    return {f"was_{c}": value for c, value in expected.items() if value is not None}


# The users/towns API's records (core/towns.py, core/groups.py, core/directory.py).
ALL_TOWNS = "SELECT id, name FROM town ORDER BY id"
TOWN_BY_ID = "SELECT id, name FROM town WHERE id = :id"
TOWN_BY_NAME = "SELECT id, name FROM town WHERE name = :name"
INSERT_TOWN = "INSERT INTO town (name) VALUES (:name) RETURNING id"
RENAME_TOWN = "UPDATE town SET name = :name WHERE id = :id"
DELETE_TOWN = "DELETE FROM town WHERE id = :id"

ALL_GROUPS = "SELECT id, name FROM auth_group ORDER BY id"
GROUP_BY_ID = "SELECT id, name FROM auth_group WHERE id = :id"
GROUP_BY_NAME = "SELECT id, name FROM auth_group WHERE name = :name"
RENAME_GROUP = "UPDATE auth_group SET name = :name WHERE id = :id"
INSERT_GROUP = "INSERT INTO auth_group (name) VALUES (:name) RETURNING id"
DELETE_GROUP = "DELETE FROM auth_group WHERE id = :id"

ALL_PERMISSIONS = "SELECT id, name, codename FROM auth_permission ORDER BY id"
PERMISSION_BY_ID = "SELECT id, name, codename FROM auth_permission WHERE id = :id"
PERMISSION_BY_CODENAME = "SELECT id, name, codename FROM auth_permission WHERE codename = :codename"
INSERT_PERMISSION = (
    "INSERT INTO auth_permission (name, codename) VALUES (:name, :codename) RETURNING id"
)
DELETE_PERMISSION = "DELETE FROM auth_permission WHERE id = :id"

# Effective permissions, as Django's ModelBackend: the user's own and their groups'.
USER_PERMISSION_CODENAMES = (
    "SELECT p.codename FROM auth_permission p"
    " JOIN auth_user_user_permissions up ON up.permission_id = p.id WHERE up.user_id = :id"
    " UNION SELECT p.codename FROM auth_permission p"
    " JOIN auth_group_permissions gp ON gp.permission_id = p.id"
    " JOIN auth_user_groups ug ON ug.group_id = gp.group_id WHERE ug.user_id = :id"
    " ORDER BY 1"
)


@dataclass(frozen=True, slots=True)
class Link:
    """A many-to-many table: its owner's column and the target's column and table."""

    table: str
    owner: str
    owner_table: str
    target: str
    target_table: str

    def owner_exists(self, dialect: Dialect) -> str:
        """The owner's row, locked on PostgreSQL so that two replacements of one owner's links
        run one after the other (else both could clear, then both insert). NO KEY UPDATE leaves
        inserts that only reference the row (a login's token) free to proceed. SQLite's one
        writer runs them one after the other already."""
        lock = " FOR NO KEY UPDATE" if dialect == "postgresql" else ""
        return f"SELECT id FROM {self.owner_table} WHERE id = :owner{lock}"  # noqa: S608 constant names

    @property
    def select(self) -> str:
        """The owner's targets, by id."""
        return f"SELECT {self.target} FROM {self.table} WHERE {self.owner} = :owner ORDER BY 1"  # noqa: S608 constant names

    @property
    def select_all(self) -> str:
        """Every (owner, target) pair of the table, by owner then target."""
        return f"SELECT {self.owner}, {self.target} FROM {self.table} ORDER BY 1, 2"  # noqa: S608 constant names

    @property
    def clear(self) -> str:
        """Unlink every target of the owner."""
        return f"DELETE FROM {self.table} WHERE {self.owner} = :owner"  # noqa: S608 constant names

    @property
    def add(self) -> str:
        """Link one target, if it (still) exists: a target deleted meanwhile is skipped, as if
        it had been deleted just after (its links would have gone with it)."""
        return (
            f"INSERT INTO {self.table} ({self.owner}, {self.target})"  # noqa: S608 constant names
            f" SELECT CAST(:owner AS BIGINT), id FROM {self.target_table} WHERE id = :target"
        )

    def target_ids(self, dialect: Dialect) -> str:
        """A subquery: the targets of the owner :id as comma-separated text, NULL for none
        (rows.user_links_from_row reads it; an aggregate keeps no order)."""
        if dialect == "sqlite":
            ids = f"group_concat({self.target})"
        else:
            ids = f"string_agg({self.target}::text, ',')"
        return f"(SELECT {ids} FROM {self.table} WHERE {self.owner} = :id)"  # noqa: S608 constant names

    def existing(self, dialect: Dialect) -> str:
        """Which of the ids in :ids exist: a JSON array on SQLite, an array on PostgreSQL (as
        the driver's id_array binds them)."""
        if dialect == "sqlite":
            among = "IN (SELECT value FROM json_each(:ids))"
        else:
            among = "= ANY(:ids::bigint[])"
        return f"SELECT id FROM {self.target_table} WHERE id {among}"  # noqa: S608 constant names


LINKS: dict[LinkName, Link] = {
    "user_towns": Link("auth_user_towns", "user_id", "auth_user", "town_id", "town"),
    "user_groups": Link("auth_user_groups", "user_id", "auth_user", "group_id", "auth_group"),
    "user_permissions": Link(
        "auth_user_user_permissions", "user_id", "auth_user", "permission_id", "auth_permission"
    ),
    "group_permissions": Link(
        "auth_group_permissions", "group_id", "auth_group", "permission_id", "auth_permission"
    ),
}


def _user_with_links(dialect: Dialect) -> str:
    links: tuple[LinkName, ...] = ("user_groups", "user_permissions", "user_towns")
    groups, permissions, towns = (LINKS[link].target_ids(dialect) for link in links)
    return (
        f"SELECT {USER_COLUMNS}, {groups} AS group_ids, {permissions} AS permission_ids,"  # noqa: S608 constant text
        f" {towns} AS town_ids FROM auth_user WHERE id = :id"
    )


# A user's record in one read: the user's columns and the ids of their groups, own permissions
# and towns (rows.user_links_from_row).
USER_WITH_LINKS: dict[Dialect, str] = {
    "sqlite": _user_with_links("sqlite"),
    "postgresql": _user_with_links("postgresql"),
}

# The audit log (core/audit.py).
AUDIT_COLUMNS = "id, created_at, event, outcome, user_id, login, address, user_agent, reason"
APPEND_AUDIT = (
    "INSERT INTO audit_event (created_at, event, outcome, user_id, login, address, user_agent,"
    " reason) VALUES (:created_at, :event, :outcome, :user_id, :login, :address, :user_agent,"
    " :reason)"
)
PRUNE_AUDIT = "DELETE FROM audit_event WHERE created_at < :before"


def audit_events(query: AuditQuery) -> str:
    """Newest first, at most :limit, filtered by the query's parameters that are set."""
    tests = {
        "user_id": "user_id = :user_id",
        "event": "event = :event",
        "before_id": "id < :before_id",
    }
    filters = [test for name, test in tests.items() if name in query.params()]
    where = f" WHERE {' AND '.join(filters)}" if filters else ""
    return f"SELECT {AUDIT_COLUMNS} FROM audit_event{where} ORDER BY id DESC LIMIT :limit"  # noqa: S608


# The admin's overview (admin/overview.py): one aggregate per chart, over created_at's index.
# Buckets are the hour's or day's start in UTC: SQLite keeps times as ISO text in UTC, so a
# prefix of it is the bucket; PostgreSQL truncates the timestamp in UTC.
_BUCKETS: dict[Dialect, dict[AuditBucket, str]] = {
    "sqlite": {
        "hour": "substr(created_at, 1, 13) || ':00:00+00:00'",
        "day": "substr(created_at, 1, 10) || 'T00:00:00+00:00'",
    },
    "postgresql": {
        "hour": "date_trunc('hour', created_at AT TIME ZONE 'UTC')",
        "day": "date_trunc('day', created_at AT TIME ZONE 'UTC')",
    },
}
_AUDIT_COUNTS = (
    "SELECT {bucket} AS bucket,"
    " SUM(CASE WHEN event = 'login' AND outcome = 'success' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN event = 'login' AND outcome = 'failure'"
    " AND COALESCE(reason, '') <> 'throttled' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN event = 'register' AND outcome = 'success' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN event = 'lockout' THEN 1 ELSE 0 END),"
    " SUM(CASE WHEN event = 'login' AND reason = 'throttled' THEN 1 ELSE 0 END)"
    " FROM audit_event WHERE created_at >= :since AND event IN ('login', 'register', 'lockout')"
    " GROUP BY 1 ORDER BY 1"
)


def audit_counts(bucket: AuditBucket, dialect: Dialect) -> str:
    """Counts of the overview's events per bucket since :since, oldest first (empty buckets
    are absent): the bucket is ISO text on SQLite, a naive UTC timestamp on PostgreSQL."""
    return _AUDIT_COUNTS.format(bucket=_BUCKETS[dialect][bucket])


# Users (all, active), tokens and sessions not expired at :now, and logins locked since
# :locked_since (each lockout entry's user, or its login when no user was known).
OVERVIEW_NUMBERS = (
    "SELECT (SELECT COUNT(*) FROM auth_user),"
    " (SELECT COUNT(*) FROM auth_user WHERE is_active),"
    " (SELECT COUNT(*) FROM auth_token WHERE expires_at IS NULL OR expires_at > :now),"
    " (SELECT COUNT(*) FROM auth_session WHERE expires_at > :now),"
    " (SELECT COUNT(DISTINCT COALESCE('#' || CAST(user_id AS TEXT), 'login:' || login))"
    " FROM audit_event WHERE event = 'lockout' AND created_at >= :locked_since)"
)


# Browser sessions (core/sessions.py) and the admin's listing of a user's tokens.
SESSION_COLUMNS = "digest, user_id, created_at, expires_at, last_used_at, address, user_agent"
INSERT_SESSION = (
    "INSERT INTO auth_session (digest, user_id, created_at, expires_at, last_used_at, address,"
    " user_agent) VALUES (:digest, :user_id, :created_at, :expires_at, :last_used_at, :address,"
    " :user_agent)"
)
# A session and its user in one indexed read, as PRINCIPAL_BY_TOKEN_DIGEST.
SESSION_BY_DIGEST = (
    f"SELECT {_USER_COLUMNS_OF_U}, s.digest AS session_digest,"  # noqa: S608 constant text
    " s.created_at AS session_created_at, s.expires_at AS session_expires_at,"
    " s.last_used_at AS session_last_used_at, s.address AS session_address,"
    " s.user_agent AS session_user_agent"
    " FROM auth_session s JOIN auth_user u ON u.id = s.user_id WHERE s.digest = :digest"
)
TOUCH_SESSION = "UPDATE auth_session SET last_used_at = :at WHERE digest = :digest"
DELETE_SESSION = "DELETE FROM auth_session WHERE digest = :digest AND user_id = :user_id"
DELETE_USER_SESSIONS = "DELETE FROM auth_session WHERE user_id = :user_id"
USER_SESSIONS = (
    f"SELECT {SESSION_COLUMNS} FROM auth_session"  # noqa: S608 constant text
    " WHERE user_id = :user_id ORDER BY created_at DESC"
)
PRUNE_SESSIONS = "DELETE FROM auth_session WHERE expires_at < :before"
USER_TOKENS = (
    "SELECT digest, user_id, created_at, expires_at, last_used_at FROM auth_token"
    " WHERE user_id = :user_id ORDER BY created_at DESC"
)
DELETE_USER_TOKEN = "DELETE FROM auth_token WHERE digest = :digest AND user_id = :user_id"
