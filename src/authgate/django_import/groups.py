"""Django's groups and permissions, once authgate's schema has them (store/schema.py keeps
Django's table and column names: auth_group, auth_permission and the three link tables).

Groups are matched by name and permissions by codename, not by id: authgate may already have
its own. A Django permission's codename becomes `app_label.codename` (what Django's has_perm
takes, and what authgate stores). Only permissions someone holds, directly or through a
group, are imported: Django creates four for every model, most of them meaningless here.
Ids are kept where they are free. Links are added, never removed: a membership dropped in
Django after an import stays in authgate (as with tokens).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, column, inspect, select, table

from authgate.core.revocations import ALL_USERS
from authgate.django_import.layout import SourceLayout
from authgate.django_import.source import SourceError
from authgate.django_import.summary import Summary
from authgate.django_import.target import advance_id_sequence, publish_revocation
from authgate.store.schema import metadata

# (source/target table, owner column, target column); the user column of a custom user
# model's link tables is found by reflection (`member_id` for accounts.Member).
LINK_TABLES = {
    "user_groups": ("auth_user_groups", "user_id", "group_id"),
    "user_permissions": ("auth_user_user_permissions", "user_id", "permission_id"),
    "group_permissions": ("auth_group_permissions", "group_id", "permission_id"),
}
TARGET_TABLES = ("auth_group", "auth_permission", *(t for t, _, _ in LINK_TABLES.values()))
GROUP_NAME_MAX_LENGTH = 150
CODENAME_MAX_LENGTH = 100
PERMISSION_NAME_MAX_LENGTH = 255


def authgate_has_groups() -> bool:
    """Whether this authgate's schema holds groups and permissions."""
    return all(name in metadata.tables for name in TARGET_TABLES)


def target_has_groups(connection: Connection) -> bool:
    """Whether a migrated target holds the group tables."""
    inspector = inspect(connection)
    found = all(inspector.has_table(name) for name in TARGET_TABLES)
    connection.rollback()
    return found


@dataclass
class GroupData:
    """Groups, permissions and links, with Django's (or authgate's) ids."""

    groups: dict[int, str] = field(default_factory=dict)
    """id -> name"""
    permissions: dict[int, tuple[str, str]] = field(default_factory=dict)
    """id -> (codename, name)"""
    links: dict[str, set[tuple[int, int]]] = field(
        default_factory=lambda: {name: set() for name in LINK_TABLES}
    )


def _split(name: str) -> tuple[str | None, str]:
    schema, dot, bare = name.rpartition(".")
    return (schema or None, bare) if dot else (None, name)


def _rows(connection: Connection, name: str, *columns: str) -> list[tuple[object, ...]]:
    schema, bare = _split(name)
    source = table(bare, *(column(c) for c in columns), schema=schema)
    return [tuple(row) for row in connection.execute(select(source))]


def read_django(connection: Connection, layout: SourceLayout) -> GroupData:
    """Django's groups, permissions and links (absent tables read as empty)."""
    inspector = inspect(connection)
    schema, _ = _split(layout.user_table)
    prefix = f"{schema}." if schema else ""

    def present(name: str) -> list[str]:
        table_schema, bare = _split(name)
        if not inspector.has_table(bare, schema=table_schema):
            return []
        return [c["name"] for c in inspector.get_columns(bare, schema=table_schema)]

    data = GroupData()
    if present(prefix + "auth_group"):
        data.groups = {
            int(str(i)): str(n) for i, n in _rows(connection, prefix + "auth_group", "id", "name")
        }
    data.permissions = _django_permissions(
        connection, prefix, bool(present(prefix + "django_content_type"))
    )
    sources = {
        "user_groups": layout.group_membership_table,
        "user_permissions": layout.user_permission_table,
        "group_permissions": prefix + "auth_group_permissions",
    }
    for link, source_table in sources.items():
        _, owner, target = LINK_TABLES[link]
        columns = present(source_table)
        if not columns:
            continue
        if owner not in columns:  # a custom user model's column, e.g. member_id
            found = [c for c in columns if c.endswith("_id") and c != target]
            if len(found) != 1 or target not in columns:
                raise SourceError(f"cannot tell the columns of {source_table!r} apart")
            owner = found[0]
        data.links[link] = {
            (int(str(a)), int(str(b))) for a, b in _rows(connection, source_table, owner, target)
        }
    connection.rollback()
    return data


def _django_permissions(
    connection: Connection, prefix: str, with_content_types: bool
) -> dict[int, tuple[str, str]]:
    inspector = inspect(connection)
    schema, bare = _split(prefix + "auth_permission")
    if not inspector.has_table(bare, schema=schema):
        return {}
    rows = _rows(
        connection, prefix + "auth_permission", "id", "name", "codename", "content_type_id"
    )
    labels: dict[int, str] = {}
    if with_content_types:
        labels = {
            int(str(i)): str(label)
            for i, label in _rows(connection, prefix + "django_content_type", "id", "app_label")
        }
    permissions = {}
    for pid, name, codename, content_type in rows:
        label = labels.get(int(str(content_type))) if content_type is not None else None
        qualified = f"{label}.{codename}" if label else str(codename)
        permissions[int(str(pid))] = (qualified, str(name))
    return permissions


def read_target(connection: Connection) -> GroupData:
    """What authgate already holds, read on the caller's transaction."""
    data = GroupData()
    data.groups = {int(str(i)): str(n) for i, n in _rows(connection, "auth_group", "id", "name")}
    data.permissions = {
        int(str(i)): (str(c), str(n))
        for i, c, n in _rows(connection, "auth_permission", "id", "codename", "name")
    }
    for link, (name, owner, target) in LINK_TABLES.items():
        data.links[link] = {
            (int(str(a)), int(str(b))) for a, b in _rows(connection, name, owner, target)
        }
    return data


class GroupImport:
    """Maps Django's groups and permissions onto authgate's, then adds the missing links."""

    def __init__(self, django: GroupData, existing: GroupData, summary: Summary) -> None:
        self._django = django
        self._existing = existing
        self._summary = summary
        self._group_ids = {name: gid for gid, name in existing.groups.items()}
        self._permission_ids = {c: pid for pid, (c, _) in existing.permissions.items()}

    def plan(self, imported_users: set[int]) -> tuple[list[dict[str, object]], ...]:
        """(groups, permissions) to insert, and the links to add per table, as rows; every
        decision counted in the summary."""
        django = self._django
        held = {p for user, p in django.links["user_permissions"] if user in imported_users}
        held |= {p for _, p in django.links["group_permissions"]}
        new_groups = [self._group_row(gid, name) for gid, name in django.groups.items()]
        new_permissions = [
            self._permission_row(pid, *django.permissions[pid])
            for pid in sorted(held)
            if pid in django.permissions
        ]
        unused = len(django.permissions) - len(held & set(django.permissions))
        if unused:
            self._summary.layout_notes.append(
                f"{unused} Django permission(s) that nobody holds were not imported"
            )
        return (
            [row for row in new_groups if row],
            [row for row in new_permissions if row],
        )

    def _group_row(self, gid: int, name: str) -> dict[str, object]:
        if len(name) > GROUP_NAME_MAX_LENGTH:
            self._summary.groups["skip"] += 1
            self._summary.skipped_groups.append(f"group {name!r}: name too long")
            return {}
        if name in self._group_ids:
            self._summary.groups["unchanged"] += 1
            return {}
        self._summary.groups["insert"] += 1
        row: dict[str, object] = {"name": name}
        if gid not in self._existing.groups:
            row["id"] = gid
        return row

    def _permission_row(self, pid: int, codename: str, name: str) -> dict[str, object]:
        if len(codename) > CODENAME_MAX_LENGTH:
            self._summary.permissions["skip"] += 1
            self._summary.skipped_groups.append(f"permission {codename!r}: codename too long")
            return {}
        if codename in self._permission_ids:
            self._summary.permissions["unchanged"] += 1
            return {}
        self._summary.permissions["insert"] += 1
        row: dict[str, object] = {"codename": codename, "name": name[:PERMISSION_NAME_MAX_LENGTH]}
        if pid not in self._existing.permissions:
            row["id"] = pid
        return row

    def links(
        self, imported_users: set[int], group_ids: dict[str, int], permission_ids: dict[str, int]
    ) -> dict[str, list[tuple[int, int]]]:
        """The links to add, in authgate's ids (a new group or permission has one once it is
        inserted; in a dry run, a placeholder that no existing link can match)."""
        django = self._django

        def group(gid: int) -> int | None:
            name = django.groups.get(gid)
            return None if name is None else group_ids.get(name, -gid - 1)

        def permission(pid: int) -> int | None:
            found = django.permissions.get(pid)
            return None if found is None else permission_ids.get(found[0], -pid - 1)

        def user(uid: int) -> int | None:
            return uid if uid in imported_users else None

        mappers: dict[str, tuple[Callable[[int], int | None], Callable[[int], int | None]]] = {
            "user_groups": (user, group),
            "user_permissions": (user, permission),
            "group_permissions": (group, permission),
        }
        added: dict[str, list[tuple[int, int]]] = {}
        for link, (map_owner, map_target) in mappers.items():
            added[link] = []
            for owner, target in sorted(django.links[link]):
                pair = (map_owner(owner), map_target(target))
                if pair[0] is None or pair[1] is None:
                    self._summary.links["skip"] += 1
                    self._summary.skipped_groups.append(
                        f"{LINK_TABLES[link][0]} ({owner}, {target}): its user, group or"
                        " permission was not imported"
                    )
                elif pair in self._existing.links[link]:
                    self._summary.links["unchanged"] += 1
                else:
                    self._summary.links["insert"] += 1
                    added[link].append((pair[0], pair[1]))
        return added


def import_groups(
    source: Connection,
    target: Connection | None,
    layout: SourceLayout,
    imported_users: set[int],
    summary: Summary,
    *,
    write: bool,
    now: datetime,
) -> None:
    """Import (or, not writing, count) Django's groups, the permissions held, and the links
    of imported users; all in one transaction, after every user is in. New links empty the
    running workers' caches (the feed's ALL_USERS row), as a staff change of groups would."""
    django = read_django(source, layout)
    if target is None or not target_has_groups(target):  # a dry run against a new database
        target = None
    existing = GroupData()
    if target is not None:
        with target.begin():
            existing = read_target(target)
    groups = GroupImport(django, existing, summary)
    new_groups, new_permissions = groups.plan(imported_users)
    if not write or target is None:
        group_ids = {name: gid for gid, name in existing.groups.items()}
        permission_ids = {c: pid for pid, (c, _) in existing.permissions.items()}
        groups.links(imported_users, group_ids, permission_ids)
        return
    with target.begin():
        _insert(target, "auth_group", new_groups)
        _insert(target, "auth_permission", new_permissions)
        written = read_target(target)
        group_ids = {name: gid for gid, name in written.groups.items()}
        permission_ids = {c: pid for pid, (c, _) in written.permissions.items()}
        links = groups.links(imported_users, group_ids, permission_ids)
        for link, pairs in links.items():
            name, owner, other = LINK_TABLES[link]
            _insert(target, name, [{owner: a, other: b} for a, b in pairs])
        if any(links.values()):  # no user row changed, yet their records show the links
            publish_revocation(target, ALL_USERS, now)
        advance_id_sequence(target, "auth_group")
        advance_id_sequence(target, "auth_permission")


def _insert(connection: Connection, name: str, rows: list[dict[str, object]]) -> None:
    """Rows with an id and rows without go apart (PostgreSQL refuses a NULL id)."""
    columns = sorted({key for row in rows for key in row})
    destination = table(name, *(column(c) for c in columns))
    for with_id in (True, False):
        chosen = [row for row in rows if ("id" in row) is with_id]
        if chosen:
            connection.execute(destination.insert(), chosen)
