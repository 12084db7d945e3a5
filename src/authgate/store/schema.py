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
    text,
)

from authgate.constants import TOKEN_DIGEST_LENGTH, USERNAME_MAX_LENGTH

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Named as Django names it, so data imported from Django keeps its familiar shape.
auth_user = Table(
    "auth_user",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
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

# One row per login (per device); the token itself is never stored, only its SHA-256.
auth_token = Table(
    "auth_token",
    metadata,
    Column("digest", String(TOKEN_DIGEST_LENGTH), primary_key=True),
    Column(
        "user_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("auth_user.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
)

# The revocation feed (core/revocations.py): every worker and node polls it to drop cached tokens.
revocation = Table(
    "revocation",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("user_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
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
    Column(
        "user_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("auth_user.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Per-user JWT generation (core/jwt.py): bumped on password change and deactivation; a JWT
# carrying an older one is dead. No row means generation 0.
jwt_token_version = Table(
    "jwt_token_version",
    metadata,
    Column(
        "user_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("auth_user.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", BigInteger(), nullable=False),
)
