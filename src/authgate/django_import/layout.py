"""Where a Django project keeps its users and tokens: the stock names, or a custom user
model's, given on the command line as `--user-table` and `--column field=column`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Django's AbstractUser fields authgate imports, as (field, column in auth_user).
USER_FIELDS = (
    "id",
    "username",
    "password",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
    "last_login",
)
# Without these there is nobody to import: a custom model must name their columns.
REQUIRED_USER_FIELDS = frozenset({"id", "username", "password"})


class LayoutError(ValueError):
    """The command line describes the source's tables in a way that cannot work."""


@dataclass(frozen=True, slots=True)
class SourceLayout:
    """Table and column names in the Django database.

    `columns` maps each of USER_FIELDS to its column, or to None when the custom user model
    has no such field (its default is then used: no email, active, not staff, ...).
    """

    user_table: str = "auth_user"
    columns: Mapping[str, str | None] = field(
        default_factory=lambda: {name: name for name in USER_FIELDS}
    )
    token_table: str = "authtoken_token"
    explicit: frozenset[str] = frozenset()
    """Fields whose column was given on the command line: a missing one is an error, while a
    missing default column of an optional field only falls back to the default."""

    @property
    def group_membership_table(self) -> str:
        """Django's many-to-many table of users and groups (`<user table>_groups`)."""
        return f"{self.user_table}_groups"

    @property
    def user_permission_table(self) -> str:
        """Django's many-to-many table of users and permissions."""
        return f"{self.user_table}_user_permissions"


def parse_column_options(
    options: Iterable[str], *, user_table: str = "auth_user", token_table: str = "authtoken_token"
) -> SourceLayout:
    """A layout from `--column field=column` options (`field=` says the model has no such
    field). Raises LayoutError for an unknown field, a bad option, or a required field
    mapped to nothing."""
    columns: dict[str, str | None] = {name: name for name in USER_FIELDS}
    explicit: set[str] = set()
    for option in options:
        name, equals, column = option.partition("=")
        name = name.strip()
        if not equals:
            raise LayoutError(f"--column {option!r}: expected FIELD=COLUMN")
        if name not in columns:
            raise LayoutError(
                f"--column {option!r}: unknown field {name!r} (one of {', '.join(USER_FIELDS)})"
            )
        if not column.strip() and name in REQUIRED_USER_FIELDS:
            raise LayoutError(f"--column {option!r}: the field {name!r} is required")
        columns[name] = column.strip() or None
        explicit.add(name)
    return SourceLayout(
        user_table=user_table,
        columns=columns,
        token_table=token_table,
        explicit=frozenset(explicit),
    )
