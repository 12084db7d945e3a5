"""JWT state: used refresh tokens (blacklist after rotation) and the per-user JWT generation.

Revision ID: 0003_jwt_tokens
Revises: 0002_revocation_feed
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_jwt_tokens"
down_revision = "0002_revocation_feed"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create jwt_blacklist and jwt_token_version."""
    op.create_table(
        "jwt_blacklist",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_user.id"],
            name="fk_jwt_blacklist_user_id_auth_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jti", name="pk_jwt_blacklist"),
    )
    op.create_index("ix_jwt_blacklist_user_id", "jwt_blacklist", ["user_id"])
    op.create_index("ix_jwt_blacklist_expires_at", "jwt_blacklist", ["expires_at"])
    op.create_table(
        "jwt_token_version",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_user.id"],
            name="fk_jwt_token_version_user_id_auth_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_jwt_token_version"),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("jwt_token_version")
    op.drop_table("jwt_blacklist")
