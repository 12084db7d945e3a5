"""The directory: towns, groups, permissions and what links them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from authgate.core.models import Group, LinkName, Permission, Town, User, UserLinks


class DirectoryStore(Protocol):
    """The directory: towns, groups, permissions and what links them."""

    async def list_towns(self) -> list[Town]:
        """Every town, by id."""
        ...

    async def get_town(self, town_id: int) -> Town | None:
        """The town with this id."""
        ...

    async def get_town_by_name(self, name: str) -> Town | None:
        """The town with exactly this name."""
        ...

    async def create_town(self, name: str) -> Town:
        """Insert a town; ConflictError("name") when the name is taken."""
        ...

    async def rename_town(self, town_id: int, name: str) -> Town | None:
        """Rename a town (ConflictError("name") when taken); None if it is gone."""
        ...

    async def delete_town(self, town_id: int) -> bool:
        """Delete a town and, by cascade, its links to users; False if there was none."""
        ...

    async def list_groups(self) -> list[Group]:
        """Every group, by id."""
        ...

    async def get_group(self, group_id: int) -> Group | None:
        """The group with this id."""
        ...

    async def get_group_by_name(self, name: str) -> Group | None:
        """The group with exactly this name."""
        ...

    async def create_group(self, name: str) -> Group:
        """Insert a group; ConflictError("name") when the name is taken."""
        ...

    async def rename_group(self, group_id: int, name: str) -> Group | None:
        """Rename a group (ConflictError("name") when taken); None if it is gone."""
        ...

    async def delete_group(self, group_id: int) -> bool:
        """Delete a group and its links; False if there was none."""
        ...

    async def list_permissions(self) -> list[Permission]:
        """Every permission, by id."""
        ...

    async def get_permission(self, permission_id: int) -> Permission | None:
        """The permission with this id."""
        ...

    async def get_permission_by_codename(self, codename: str) -> Permission | None:
        """The permission with exactly this codename."""
        ...

    async def create_permission(self, name: str, codename: str) -> Permission:
        """Insert a permission; ConflictError("codename") when the codename is taken."""
        ...

    async def delete_permission(self, permission_id: int) -> bool:
        """Delete a permission and its links; False if there was none."""
        ...

    async def existing_ids(self, link: LinkName, ids: Sequence[int]) -> set[int]:
        """Which of `ids` name a row of the link's target table."""
        ...

    async def linked_ids(self, link: LinkName, owner_id: int) -> list[int]:
        """The targets the owner links to, ascending."""
        ...

    async def all_links(self, link: LinkName) -> dict[int, list[int]]:
        """Every owner's targets (ascending), by owner; owners without any are left out."""
        ...

    async def set_links(self, link: LinkName, owner_id: int, target_ids: Sequence[int]) -> None:
        """Replace the owner's targets in one transaction (a target deleted meanwhile is
        skipped); NotFoundError if the owner is gone."""
        ...

    async def get_user_with_links(self, user_id: int) -> tuple[User, UserLinks] | None:
        """The user and their groups, own permissions and towns, in one read; None if there
        is no such user."""
        ...

    async def get_permission_codenames(self, user_id: int) -> list[str]:
        """Codenames of the user's own permissions and their groups', sorted."""
        ...
