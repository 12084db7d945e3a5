"""jwt_ended_session: logins (JWT `sid` families) ended because a used refresh token came back.

Revision ID: 0010_jwt_ended_sessions
Revises: 0009_username_skeletons
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_jwt_ended_sessions"
down_revision = "0009_username_skeletons"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create jwt_ended_session."""
    op.create_table(
        "jwt_ended_session",
        sa.Column("sid", sa.String(64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_user.id"],
            name="fk_jwt_ended_session_user_id_auth_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sid", name="pk_jwt_ended_session"),
    )
    op.create_index("ix_jwt_ended_session_user_id", "jwt_ended_session", ["user_id"])
    op.create_index("ix_jwt_ended_session_expires_at", "jwt_ended_session", ["expires_at"])


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("jwt_ended_session")
