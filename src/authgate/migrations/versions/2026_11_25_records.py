"""The users/towns API's records: towns, and Django's groups and permissions, each many-to-many.

Revision ID: 0004_records
Revises: 0003_jwt_tokens
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_records"
down_revision = "0003_jwt_tokens"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# (table, owner column, owner table, target column, target table), as Django names them.
_LINKS = (
    ("auth_user_towns", "user_id", "auth_user", "town_id", "town"),
    ("auth_user_groups", "user_id", "auth_user", "group_id", "auth_group"),
    ("auth_user_user_permissions", "user_id", "auth_user", "permission_id", "auth_permission"),
    ("auth_group_permissions", "group_id", "auth_group", "permission_id", "auth_permission"),
)


def _named_table(name: str, *columns: sa.Column[str], unique: str) -> None:
    op.create_table(
        name,
        sa.Column("id", _ID, nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        sa.UniqueConstraint(unique, name=f"uq_{name}_{unique}"),
        sqlite_autoincrement=True,
    )


def upgrade() -> None:
    """Create town, auth_group, auth_permission and the four link tables."""
    _named_table("town", sa.Column("name", sa.String(255), nullable=False), unique="name")
    _named_table("auth_group", sa.Column("name", sa.String(150), nullable=False), unique="name")
    _named_table(
        "auth_permission",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("codename", sa.String(100), nullable=False),
        unique="codename",
    )
    for table, owner, owner_table, target, target_table in _LINKS:
        op.create_table(
            table,
            sa.Column("id", _ID, nullable=False),
            sa.Column(owner, _ID, nullable=False),
            sa.Column(target, _ID, nullable=False),
            sa.ForeignKeyConstraint(
                [owner],
                [f"{owner_table}.id"],
                name=f"fk_{table}_{owner}_{owner_table}",
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                [target],
                [f"{target_table}.id"],
                name=f"fk_{table}_{target}_{target_table}",
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.UniqueConstraint(owner, target, name=f"uq_{table}_{owner}_{target}"),
        )
        op.create_index(f"ix_{table}_{target}", table, [target])


def downgrade() -> None:
    """Drop them, links first."""
    for table, *_ in reversed(_LINKS):
        op.drop_table(table)
    for table in ("auth_permission", "auth_group", "town"):
        op.drop_table(table)
