"""Username keys fold the Turkish i's (ı, İ) into i (core/identity.py username_key): rekey the
users whose names hold one, so that they are found again and collide with their look-alikes.

Revision ID: 0007_username_keys
Revises: 0006_sessions
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from authgate.core.identity import normalize_username, username_key

revision = "0007_username_keys"
down_revision = "0006_sessions"
branch_labels = None
depends_on = None

_users = sa.table(
    "auth_user",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("username_key", sa.String),
)


def _rekey(key_of: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_users.c.id, _users.c.username).where(
            sa.or_(_users.c.username.contains("\u0131"), _users.c.username.contains("\u0130"))
        )
    ).all()
    for user_id, username in rows:
        connection.execute(
            _users.update().where(_users.c.id == user_id).values(username_key=key_of(username))
        )


def upgrade() -> None:
    """Recompute the key of every username with a dotless ı or a dotted İ (few, if any)."""
    _rekey(username_key)


def downgrade() -> None:
    """Back to the old rule: NFKC then casefold only."""
    _rekey(lambda username: normalize_username(username).casefold())
