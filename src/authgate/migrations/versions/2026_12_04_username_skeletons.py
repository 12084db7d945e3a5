"""Usernames' UTS #39 confusable skeletons (core/identity.py username_skeletons), each unique,
so that a name that looks like another one (`асе` in Cyrillic beside `ace`) is taken.

Users who already looked alike before keep their names and logins: the oldest of them holds
the skeleton, and the others get NULL there (a unique index allows any number of NULLs). A
new look-alike of any of them is still refused, since theirs is the holder's skeleton.

Revision ID: 0009_username_skeletons
Revises: 0008_activation_requested
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from authgate.core.identity import username_skeletons

revision = "0009_username_skeletons"
down_revision = "0008_activation_requested"
branch_labels = None
depends_on = None

_COLUMNS = ("username_skeleton_lower", "username_skeleton_upper")
_BATCH = 1000

_users = sa.table(
    "auth_user",
    sa.column("id", sa.Integer),
    sa.column("username_key", sa.String),
    *(sa.column(name, sa.String) for name in _COLUMNS),
)


def _backfill(connection: sa.Connection) -> None:
    """Every user's skeletons, a batch of ids at a time."""
    # Bound names must differ from the columns' own (SQLAlchemy reserves those).
    update = (
        _users.update()
        .where(_users.c.id == sa.bindparam("user_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in _COLUMNS})
    )
    names = ("user_id", *(f"new_{name}" for name in _COLUMNS))
    last_id = 0
    while rows := connection.execute(
        sa.select(_users.c.id, _users.c.username_key)
        .where(_users.c.id > last_id)
        .order_by(_users.c.id)
        .limit(_BATCH)
    ).all():
        values = [
            dict(zip(names, (user_id, *username_skeletons(key)), strict=True))
            for user_id, key in rows
        ]
        connection.execute(update, values)
        last_id = rows[-1][0]


def _clear_younger_lookalikes(connection: sa.Connection, column: str) -> None:
    """NULL the skeleton of every user but the oldest of those who share it."""
    younger = sa.text(
        f"UPDATE auth_user SET {column} = NULL WHERE id IN (SELECT id FROM"  # noqa: S608 constant
        f" (SELECT id, ROW_NUMBER() OVER (PARTITION BY {column} ORDER BY id) AS n"
        f" FROM auth_user WHERE {column} IS NOT NULL) AS ranked WHERE n > 1)"
    )
    connection.execute(younger)


def upgrade() -> None:
    """Add the skeleton columns, fill them, and make each unique."""
    for name in _COLUMNS:
        op.add_column("auth_user", sa.Column(name, sa.String(64), nullable=True))
    connection = op.get_bind()
    _backfill(connection)
    for name in _COLUMNS:
        _clear_younger_lookalikes(connection, name)
        op.create_index(f"uq_auth_user_{name}", "auth_user", [name], unique=True)


def downgrade() -> None:
    """Drop the skeletons."""
    for name in _COLUMNS:
        op.drop_index(f"uq_auth_user_{name}", "auth_user")
        op.drop_column("auth_user", name)
