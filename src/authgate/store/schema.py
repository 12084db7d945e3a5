"""The one schema (SQLAlchemy Core) for SQLite and PostgreSQL: Alembic's target."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

from authgate.constants import (
    GROUP_NAME_MAX_LENGTH,
    PERMISSION_CODENAME_MAX_LENGTH,
    PERMISSION_NAME_MAX_LENGTH,
    TOKEN_DIGEST_LENGTH,
    TOWN_NAME_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Row ids: 64-bit on PostgreSQL; SQLite's INTEGER PRIMARY KEY is its 64-bit rowid already.
ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


def _id_column() -> Column[int]:
    return Column("id", ID_TYPE, primary_key=True)


def _reference(name: str, table: str, *, index: bool | None = None) -> Column[int]:
    """A NOT NULL foreign key that goes with the row it points at (Django deletes M2M rows
    with their ends; here the database does, so no caller can forget)."""
    return Column(
        name, ID_TYPE, ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False, index=index
    )


# Named as Django names it, so data imported from Django keeps its familiar shape.
auth_user = Table(
    "auth_user",
    metadata,
    _id_column(),
    Column("username", String(USERNAME_MAX_LENGTH), nullable=False),
    # NFKC + casefold of the username: the unique key, so "Admin" and "admin" cannot coexist.
    Column("username_key", String(USERNAME_MAX_LENGTH * 3), nullable=False, unique=True),
    Column("email", String(254), nullable=False, server_default=""),
    Column("email_key", String(254 * 3), nullable=False, server_default=""),
    Column("first_name", String(150), nullable=False, server_default=""),
    Column("last_name", String(150), nullable=False, server_default=""),
    Column("password", String(255), nullable=False),
    Column("is_active", Boolean(), nullable=False, server_default=text("true")),
    Column("is_staff", Boolean(), nullable=False, server_default=text("false")),
    Column("is_superuser", Boolean(), nullable=False, server_default=text("false")),
    Column("role", String(64), nullable=False, server_default="USER"),
    Column("date_joined", DateTime(timezone=True), nullable=False),
    Column("last_login", DateTime(timezone=True), nullable=True),
    # When the owner was last asked to prove their email by an activation link (registered
    # with activation emails on, or changed their own email); staff (de)activating clear it.
    # Inactive with it set: not yet activated, what links serve; inactive without: deactivated
    # by staff, which no link undoes (core/models.py User.awaits_activation).
    Column("activation_requested_at", DateTime(timezone=True), nullable=True),
    # The username's UTS #39 confusable skeletons (core/identity.py username_skeletons, SHA-256
    # hex), unique (below), so that no name can look like another one. NULL only where a user
    # already looked like an older one when the columns came (migration 0009): that one holds it.
    Column("username_skeleton_lower", String(64), nullable=True),
    Column("username_skeleton_upper", String(64), nullable=True),
    # Never reuse a deleted user's id (SQLite would, without AUTOINCREMENT; Django's doesn't).
    sqlite_autoincrement=True,
)
# Emails are optional (as in Django) but unique when given.
Index(
    "uq_auth_user_email_key",
    auth_user.c.email_key,
    unique=True,
    sqlite_where=auth_user.c.email_key != "",
    postgresql_where=auth_user.c.email_key != "",
)
Index("uq_auth_user_username_skeleton_lower", auth_user.c.username_skeleton_lower, unique=True)
Index("uq_auth_user_username_skeleton_upper", auth_user.c.username_skeleton_upper, unique=True)

# One row per login (per device); the token itself is never stored, only its SHA-256.
auth_token = Table(
    "auth_token",
    metadata,
    Column("digest", String(TOKEN_DIGEST_LENGTH), primary_key=True),
    _reference("user_id", "auth_user", index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
)

# The revocation feed (core/revocations.py): every worker and node polls it to drop cached tokens.
revocation = Table(
    "revocation",
    metadata,
    _id_column(),
    Column("user_id", ID_TYPE, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    # Readers remember the last id they saw: an id must never come back after a prune.
    sqlite_autoincrement=True,
)

# JWT refresh tokens already used (SimpleJWT's blacklist after rotation): only the `jti` is
# kept, never the token, and `expires_at` says when a row can go (the token is dead anyway).
jwt_blacklist = Table(
    "jwt_blacklist",
    metadata,
    Column("jti", String(64), primary_key=True),
    _reference("user_id", "auth_user", index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Logins ended because one of their used refresh tokens came back (core/jwt.py): every JWT
# carrying one of these `sid`s is dead. A row can go once `expires_at` (the latest expiry of
# any token of that login) has passed.
jwt_ended_session = Table(
    "jwt_ended_session",
    metadata,
    Column("sid", String(64), primary_key=True),
    _reference("user_id", "auth_user", index=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

# Per-user JWT generation (core/jwt.py): bumped on password change and deactivation; a JWT
# carrying an older one is dead. No row means generation 0.
jwt_token_version = Table(
    "jwt_token_version",
    metadata,
    Column(
        "user_id",
        ID_TYPE,
        ForeignKey("auth_user.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", BigInteger(), nullable=False),
)


def _link_table(name: str, owner: tuple[str, str], target: tuple[str, str]) -> Table:
    """A many-to-many table as Django creates one: (id, owner_id, target_id), each pair once.
    The unique pair also indexes lookups by owner; the target column gets its own index for
    the cascade when a target is deleted."""
    owner_column, owner_table = owner
    target_column, target_table = target
    return Table(
        name,
        metadata,
        _id_column(),
        _reference(owner_column, owner_table),
        _reference(target_column, target_table),
        UniqueConstraint(owner_column, target_column),
        Index(None, target_column),
    )


# Towns (users/towns API): {id, name}, many-to-many with users. Like every table with ids a client
# keeps, ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL).
town = Table(
    "town",
    metadata,
    _id_column(),
    Column("name", String(TOWN_NAME_MAX_LENGTH), nullable=False, unique=True),
    sqlite_autoincrement=True,
)
auth_user_towns = _link_table("auth_user_towns", ("user_id", "auth_user"), ("town_id", "town"))

# Django's groups and permissions, under Django's table and column names, so that an imported
# Django database maps one to one (Django's auth_permission also has a content_type_id; here a
# permission is just a unique codename and its name).
auth_group = Table(
    "auth_group",
    metadata,
    _id_column(),
    Column("name", String(GROUP_NAME_MAX_LENGTH), nullable=False, unique=True),
    sqlite_autoincrement=True,
)
auth_permission = Table(
    "auth_permission",
    metadata,
    _id_column(),
    Column("name", String(PERMISSION_NAME_MAX_LENGTH), nullable=False),
    Column("codename", String(PERMISSION_CODENAME_MAX_LENGTH), nullable=False, unique=True),
    sqlite_autoincrement=True,
)
auth_user_groups = _link_table(
    "auth_user_groups", ("user_id", "auth_user"), ("group_id", "auth_group")
)
auth_user_user_permissions = _link_table(
    "auth_user_user_permissions", ("user_id", "auth_user"), ("permission_id", "auth_permission")
)
auth_group_permissions = _link_table(
    "auth_group_permissions", ("group_id", "auth_group"), ("permission_id", "auth_permission")
)

# The audit log (core/audit.py): who did what, when, from where. No foreign key: a deleted
# user's history stays. Never a password or a token; `reason` is for staff only.
audit_event = Table(
    "audit_event",
    metadata,
    _id_column(),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("event", String(40), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("user_id", ID_TYPE, nullable=True, index=True),
    Column("login", String(254), nullable=True),
    Column("address", String(45), nullable=True),
    Column("user_agent", String(256), nullable=True),
    Column("reason", String(64), nullable=True),
    sqlite_autoincrement=True,
)

# Browser sessions (core/sessions.py): like tokens, only the SHA-256 of the cookie's value is
# kept. Where and from what the session was opened is shown to staff, so they can tell them apart.
auth_session = Table(
    "auth_session",
    metadata,
    Column("digest", String(TOKEN_DIGEST_LENGTH), primary_key=True),
    _reference("user_id", "auth_user", index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=False),
    Column("address", String(45), nullable=True),
    Column("user_agent", String(256), nullable=True),
)
