"""Django's groups and permissions: named sets a staff member defines and assigns.

A permission is a unique codename (`towns.change_town`) with a readable name; a group is a
named set of permissions; a user holds groups and permissions of their own. What a user may
do is the union (Django's ModelBackend), with active superusers holding every permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from authgate.core.errors import ConflictError, NotFoundError, ValidationError
from authgate.core.models import User
from authgate.core.staff import require_staff
from authgate.core.towns import check_targets, unique_ids

if TYPE_CHECKING:
    from authgate.store import Store
    from authgate.store.sql import LinkName


@dataclass(frozen=True, slots=True)
class Group:
    """A named set of permissions."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Permission:
    """Something a user may be allowed to do: a unique codename and a readable name."""

    id: int
    name: str
    codename: str


class Groups:
    """Defining groups and permissions and assigning them; every change is staff only."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def list_groups(self) -> list[Group]:
        """Every group, by id."""
        return await self._store.list_groups()

    async def list_permissions(self) -> list[Permission]:
        """Every permission, by id."""
        return await self._store.list_permissions()

    async def create_group(self, actor: User, name: str) -> Group:
        """A new, empty group; ValidationError under `name` if the name is taken."""
        require_staff(actor)
        try:
            return await self._store.create_group(name)
        except ConflictError as conflict:
            raise ValidationError.single("name", "group_exists") from conflict

    async def delete_group(self, actor: User, group_id: int) -> None:
        """Delete a group: its members lose it, and what it granted."""
        require_staff(actor)
        if not await self._store.delete_group(group_id):
            raise NotFoundError

    async def create_permission(self, actor: User, name: str, codename: str) -> Permission:
        """A new permission; ValidationError under `codename` if the codename is taken."""
        require_staff(actor)
        try:
            return await self._store.create_permission(name, codename)
        except ConflictError as conflict:
            raise ValidationError.single("codename", "permission_exists") from conflict

    async def delete_permission(self, actor: User, permission_id: int) -> None:
        """Delete a permission: every user and group holding it loses it."""
        require_staff(actor)
        if not await self._store.delete_permission(permission_id):
            raise NotFoundError

    async def set_user_groups(self, actor: User, user: User, group_ids: Iterable[int]) -> None:
        """Replace the user's groups; unknown ids raise ValidationError under `groups`."""
        await self._replace(actor, "user_groups", user.id, group_ids, "groups")

    async def set_user_permissions(
        self, actor: User, user: User, permission_ids: Iterable[int]
    ) -> None:
        """Replace the user's own permissions (`user_permissions`)."""
        await self._replace(actor, "user_permissions", user.id, permission_ids, "user_permissions")

    async def set_group_permissions(
        self, actor: User, group_id: int, permission_ids: Iterable[int]
    ) -> None:
        """Replace a group's permissions; NotFoundError if the group is gone."""
        await self._replace(actor, "group_permissions", group_id, permission_ids, "permissions")

    async def permissions_of(self, user: User) -> frozenset[str]:
        """The codenames the user holds, their own and their groups' (Django's
        get_all_permissions): none for an inactive user, every one for an active superuser."""
        if not user.is_active:
            return frozenset()
        if user.is_superuser:
            return frozenset(p.codename for p in await self._store.list_permissions())
        return frozenset(await self._store.get_permission_codenames(user.id))

    async def has_permission(self, user: User, codename: str) -> bool:
        """Whether the user holds the permission (Django's has_perm)."""
        return codename in await self.permissions_of(user)

    async def _replace(
        self, actor: User, link: LinkName, owner_id: int, ids: Iterable[int], field_name: str
    ) -> None:
        require_staff(actor)
        wanted = unique_ids(ids)
        await check_targets(self._store, link, wanted, field_name)
        await self._store.set_links(link, owner_id, wanted)
