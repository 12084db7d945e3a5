"""auth_user.activation_requested_at: "not yet activated" apart from "deactivated by staff".

Existing inactive users who never logged in and were never deactivated by staff (no
`deactivation` audit entry) are taken as waiting for their activation link since they joined;
every other inactive user as deactivated by staff, which only staff (or the CLI) undo.

Revision ID: 0008_activation_requested
Revises: 0007_username_keys
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_activation_requested"
down_revision = "0007_username_keys"
branch_labels = None
depends_on = None

_users = sa.table(
    "auth_user",
    sa.column("id", sa.Integer),
    sa.column("is_active", sa.Boolean),
    sa.column("last_login", sa.DateTime(timezone=True)),
    sa.column("date_joined", sa.DateTime(timezone=True)),
    sa.column("activation_requested_at", sa.DateTime(timezone=True)),
)
_audit = sa.table("audit_event", sa.column("user_id", sa.Integer), sa.column("event", sa.String))


def upgrade() -> None:
    """Add the column, and mark the registrations still waiting for their link."""
    op.add_column(
        "auth_user",
        sa.Column("activation_requested_at", sa.DateTime(timezone=True), nullable=True),
    )
    deactivated_by_staff = sa.select(_audit.c.user_id).where(
        _audit.c.event == "deactivation", _audit.c.user_id.is_not(None)
    )
    op.get_bind().execute(
        _users.update()
        .where(
            _users.c.is_active == sa.false(),
            _users.c.last_login.is_(None),
            _users.c.id.not_in(deactivated_by_staff),
        )
        .values(activation_requested_at=_users.c.date_joined)
    )


def downgrade() -> None:
    """Drop the column (every inactive user is again one state)."""
    with op.batch_alter_table("auth_user") as batch:
        batch.drop_column("activation_requested_at")
