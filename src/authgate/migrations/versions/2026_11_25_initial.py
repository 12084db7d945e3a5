"""Users and opaque tokens.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create auth_user and auth_token."""
    op.create_table(
        "auth_user",
        sa.Column("id", _ID, nullable=False),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("username_key", sa.String(450), nullable=False),
        sa.Column("email", sa.String(254), server_default="", nullable=False),
        sa.Column("email_key", sa.String(762), server_default="", nullable=False),
        sa.Column("first_name", sa.String(150), server_default="", nullable=False),
        sa.Column("last_name", sa.String(150), server_default="", nullable=False),
        sa.Column("password", sa.String(255), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_staff", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("role", sa.String(64), server_default="USER", nullable=False),
        sa.Column("date_joined", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_auth_user"),
        sa.UniqueConstraint("username_key", name="uq_auth_user_username_key"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_auth_user_email_key",
        "auth_user",
        ["email_key"],
        unique=True,
        sqlite_where=sa.text("email_key != ''"),
        postgresql_where=sa.text("email_key != ''"),
    )
    op.create_table(
        "auth_token",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_user.id"],
            name="fk_auth_token_user_id_auth_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name="pk_auth_token"),
    )
    op.create_index("ix_auth_token_user_id", "auth_token", ["user_id"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("auth_token")
    op.drop_table("auth_user")
