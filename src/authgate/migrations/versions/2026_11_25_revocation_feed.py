"""The revocation feed that keeps every worker's token cache honest.

Revision ID: 0002_revocation_feed
Revises: 0001_initial
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_revocation_feed"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the revocation table."""
    op.create_table(
        "revocation",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_revocation"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_revocation_created_at", "revocation", ["created_at"])


def downgrade() -> None:
    """Drop the revocation table."""
    op.drop_table("revocation")
