"""Reading the Django database: checked layout first, then users in id order, batch by batch.

Nothing is written to the source; its SQLite file is even opened read-only (connections.py).
Each batch ends the read transaction, so a Django still serving on the same SQLite file is
never held up by the import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnClause, Connection, RowMapping, column, func, inspect, select, table

from authgate.django_import.layout import REQUIRED_USER_FIELDS, USER_FIELDS, SourceLayout
from authgate.django_import.rows import (
    SourceToken,
    SourceUser,
    as_bool,
    as_datetime,
    as_text,
)

# Django's tables for groups and permissions, which authgate cannot hold yet.
GROUP_TABLES = ("auth_group", "auth_group_permissions")


class SourceError(RuntimeError):
    """A database does not hold what the import needs: the Django tables the layout names,
    or authgate's migrated schema."""


@dataclass(frozen=True, slots=True)
class CheckedLayout:
    """A layout whose tables and columns were found: None marks an absent optional column."""

    layout: SourceLayout
    columns: dict[str, str | None]
    has_tokens: bool
    notes: tuple[str, ...]


def _split(name: str) -> tuple[str | None, str]:
    """`schema.table` (PostgreSQL) or `table`."""
    schema, dot, bare = name.rpartition(".")
    return (schema or None, bare) if dot else (None, name)


class DjangoSource:
    """Queries on the Django database for one checked layout."""

    def __init__(self, connection: Connection, checked: CheckedLayout) -> None:
        self._connection = connection
        self._checked = checked
        schema, name = _split(checked.layout.user_table)
        present = [c for c in checked.columns.values() if c is not None]
        self._users = table(name, *(column(c) for c in present), schema=schema)
        token_schema, token_name = _split(checked.layout.token_table)
        self._tokens = table(
            token_name, column("key"), column("user_id"), column("created"), schema=token_schema
        )

    @classmethod
    def open(cls, connection: Connection, layout: SourceLayout) -> DjangoSource:
        """Check the layout against the database; SourceError when it cannot be read."""
        return cls(connection, check_layout(connection, layout))

    @property
    def connection(self) -> Connection:
        """The connection to the Django database (groups.py reads it too)."""
        return self._connection

    @property
    def notes(self) -> tuple[str, ...]:
        """What the layout check found worth telling (absent optional columns, no tokens)."""
        return self._checked.notes

    def count_users(self) -> int:
        """How many users there are (the progress bar's length)."""
        id_column = self._column("id")
        count = self._connection.execute(select(func.count(id_column))).scalar_one()
        self._connection.rollback()
        return int(count)

    def users_after(self, last_id: int, limit: int) -> list[SourceUser]:
        """The next `limit` users with an id above `last_id`, by id (keyset pagination: a
        rerun after a crash can start anywhere, and no batch is read twice)."""
        id_column = self._column("id")
        query = select(self._users).where(id_column > last_id).order_by(id_column).limit(limit)
        rows = self._connection.execute(query).mappings().all()
        self._connection.rollback()
        return [self._user(row) for row in rows]

    def tokens_of(self, user_ids: Sequence[int]) -> list[SourceToken]:
        """The DRF tokens of these users (none when the project has no authtoken table)."""
        if not self._checked.has_tokens or not user_ids:
            return []
        query = select(self._tokens).where(self._tokens.c.user_id.in_(list(user_ids)))
        rows = self._connection.execute(query).mappings().all()
        self._connection.rollback()
        return [
            SourceToken(
                key=str(row["key"]),
                user_id=int(row["user_id"]),
                created=_required_datetime(row["created"]),
            )
            for row in rows
        ]

    def count_unimportable(self) -> dict[str, int]:
        """Rows of the tables authgate has no place for yet (groups, permissions), by table."""
        layout = self._checked.layout
        tables = (*GROUP_TABLES, layout.group_membership_table, layout.user_permission_table)
        inspector = inspect(self._connection)
        counts: dict[str, int] = {}
        for name in tables:
            schema, bare = _split(name)
            if inspector.has_table(bare, schema=schema):
                query = select(func.count()).select_from(table(bare, schema=schema))
                counts[name] = int(self._connection.execute(query).scalar_one())
        self._connection.rollback()
        return counts

    def _column(self, field: str) -> ColumnClause[object]:
        name = self._checked.columns[field]
        assert name is not None  # noqa: S101 required fields are always mapped
        found: ColumnClause[object] = self._users.c[name]
        return found

    def _value(self, row: RowMapping, field: str, default: object = None) -> object:
        name = self._checked.columns[field]
        return default if name is None else row[name]

    def _user(self, row: RowMapping) -> SourceUser:
        get = self._value
        return SourceUser(
            id=int(str(get(row, "id"))),
            username=as_text(get(row, "username")),
            password=as_text(get(row, "password")),
            email=as_text(get(row, "email")),
            first_name=as_text(get(row, "first_name")),
            last_name=as_text(get(row, "last_name")),
            is_active=as_bool(get(row, "is_active", True)),
            is_staff=as_bool(get(row, "is_staff")),
            is_superuser=as_bool(get(row, "is_superuser")),
            date_joined=as_datetime(get(row, "date_joined")),
            last_login=as_datetime(get(row, "last_login")),
        )


def _required_datetime(value: object) -> datetime:
    parsed = as_datetime(value)
    if parsed is None:
        raise SourceError("a DRF token has no creation time")
    return parsed


def check_layout(connection: Connection, layout: SourceLayout) -> CheckedLayout:
    """Find the layout's tables and columns; SourceError names what is missing."""
    inspector = inspect(connection)
    schema, name = _split(layout.user_table)
    if not inspector.has_table(name, schema=schema):
        raise SourceError(
            f"table {layout.user_table!r} not found in the Django database "
            "(a custom user model's table is given with --user-table)"
        )
    present = {c["name"] for c in inspector.get_columns(name, schema=schema)}
    columns: dict[str, str | None] = {}
    notes: list[str] = []
    for field in USER_FIELDS:
        wanted = layout.columns.get(field)
        if wanted is None or wanted in present:
            columns[field] = wanted
            continue
        if field in REQUIRED_USER_FIELDS or field in layout.explicit:
            raise SourceError(
                f"column {wanted!r} (field {field}) not found in table {layout.user_table!r}"
                f" (map it with --column {field}=COLUMN)"
            )
        columns[field] = None
        notes.append(f"column {wanted!r} is absent from {layout.user_table!r}: default used")
    token_schema, token_name = _split(layout.token_table)
    has_tokens = inspector.has_table(token_name, schema=token_schema)
    if not has_tokens:
        notes.append(f"no {layout.token_table!r} table: there are no DRF tokens to import")
    connection.rollback()
    return CheckedLayout(layout, columns, has_tokens, tuple(notes))
