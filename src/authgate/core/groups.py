"""Django's groups and permissions: named sets a staff member defines and assigns.

A permission is a unique codename (`towns.change_town`) with a readable name; a group is a
named set of permissions; a user holds groups and permissions of their own. What a user may
do is the union (Django's ModelBackend), with active superusers holding every permission.

Every change is staff only and written to the audit log with the staff member who made it
(core/audit.py by_staff): a user's groups and own permissions under the user, the
definitions of groups and permissions under no user.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from authgate.constants import (  # noqa: F401 re-exported: the records' limits
    GROUP_NAME_MAX_LENGTH,
    PERMISSION_CODENAME_MAX_LENGTH,
    PERMISSION_NAME_MAX_LENGTH,
)
from authgate.core import audit
from authgate.core.audit import Audit, by_staff, ids_text
from authgate.core.errors import (
    ConflictError,
    Message,
    NotFoundError,
    ValidationError,
)
from authgate.core.models import Group, LinkName, Permission, User
from authgate.core.staff import authorize_staff_change, require_staff
from authgate.core.towns import check_targets, unique_ids

if TYPE_CHECKING:
    from authgate.core.revocations import Revocations
    from authgate.store.protocol import Store

# The fields naming these links in a request (DRF's names for Django's many-to-many fields).
GROUPS_FIELD = "groups"
USER_PERMISSIONS_FIELD = "user_permissions"
PERMISSIONS_FIELD = "permissions"


class Groups:
    """Defining groups and permissions and assigning them; every change is staff only. A
    user's groups and own permissions, and a group's or permission's deletion, are told to
    `revocations` (cached user records show their ids; names and a group's permissions they
    do not)."""

    def __init__(
        self, store: Store, audit_log: Audit, revocations: Revocations | None = None
    ) -> None:
        self._store = store
        self._audit = audit_log
        self._revocations = revocations

    # Reads (any signed-in user: the dialect checks that much)

    async def list_groups(self) -> list[Group]:
        """Every group, by id."""
        return await self._store.list_groups()

    async def list_permissions(self) -> list[Permission]:
        """Every permission, by id."""
        return await self._store.list_permissions()

    async def get_group(self, group_id: int) -> Group:
        """The group with this id, or NotFoundError."""
        group = await self._store.get_group(group_id)
        if group is None:
            raise NotFoundError
        return group

    async def get_permission(self, permission_id: int) -> Permission:
        """The permission with this id, or NotFoundError."""
        permission = await self._store.get_permission(permission_id)
        if permission is None:
            raise NotFoundError
        return permission

    async def permissions_of_group(self, group_id: int) -> list[int]:
        """The ids of the group's permissions, ascending."""
        return await self._store.linked_ids("group_permissions", group_id)

    async def permissions_by_group(self) -> dict[int, list[int]]:
        """Every group's permission ids (ascending), by group id, in one read; a group
        without any is left out."""
        return await self._store.all_links("group_permissions")

    # Field checks that need the database, run beside a dialect's own field validation

    async def group_name_problems(self, name: str, *, keep: int | None = None) -> list[Message]:
        """Uniqueness problems of a prospective group name (`keep`: the group being renamed)."""
        taken = await self._store.get_group_by_name(name)
        return [Message("group_exists")] if taken is not None and taken.id != keep else []

    async def codename_problems(self, codename: str) -> list[Message]:
        """Uniqueness problems of a prospective permission codename."""
        taken = await self._store.get_permission_by_codename(codename)
        return [Message("permission_exists")] if taken is not None else []

    async def check_group_ids(self, ids: Iterable[int], field_name: str = GROUPS_FIELD) -> None:
        """ValidationError under `field_name` naming the first id that is no group."""
        await check_targets(self._store, "user_groups", unique_ids(ids), field_name)

    async def check_permission_ids(
        self, ids: Iterable[int], field_name: str = USER_PERMISSIONS_FIELD
    ) -> None:
        """ValidationError under `field_name` naming the first id that is no permission."""
        await check_targets(self._store, "user_permissions", unique_ids(ids), field_name)

    # Groups

    async def create_group(
        self, actor: User, name: str, permission_ids: Iterable[int] = ()
    ) -> Group:
        """A new group with these permissions; ValidationError under `name` if the name is
        taken, under `permissions` for an unknown id (and then no group is made)."""
        require_staff(actor)
        wanted = unique_ids(permission_ids)
        await self.check_permission_ids(wanted, PERMISSIONS_FIELD)
        try:
            group = await self._store.create_group(name)
        except ConflictError as conflict:
            raise ValidationError.single("name", "group_exists") from conflict
        if wanted:
            await self._store.set_links("group_permissions", group.id, wanted)
        what = f"group #{group.id} created, permissions={ids_text(wanted)}"
        await self._audit.record(audit.GROUP_CHANGE, reason=by_staff(what, actor))
        return group

    async def update_group(
        self,
        actor: User,
        group_id: int,
        *,
        name: str | None = None,
        permission_ids: Iterable[int] | None = None,
    ) -> Group:
        """Rename a group and/or replace its permissions (None: leave as is). Every field is
        checked before anything changes: a taken name and an unknown permission are one
        ValidationError, and nothing is saved. NotFoundError if the group is gone."""
        require_staff(actor)
        group = await self.get_group(group_id)
        wanted = None if permission_ids is None else unique_ids(permission_ids)
        errors: dict[str, list[Message]] = {}
        if name is not None and (problems := await self.group_name_problems(name, keep=group.id)):
            errors["name"] = problems
        if wanted is not None:
            try:
                await self.check_permission_ids(wanted, PERMISSIONS_FIELD)
            except ValidationError as error:
                errors |= error.errors
        if errors:
            raise ValidationError(errors)
        if name is not None and name != group.name:
            group = await self._rename(group, name)
            what = f"group #{group.id} renamed {name}"
            await self._audit.record(audit.GROUP_CHANGE, reason=by_staff(what, actor))
        if wanted is not None:
            await self._replace_links(actor, "group_permissions", group.id, wanted)
        return group

    async def _rename(self, group: Group, name: str) -> Group:
        try:
            renamed = await self._store.rename_group(group.id, name)
        except ConflictError as conflict:  # taken since the check above
            raise ValidationError.single("name", "group_exists") from conflict
        if renamed is None:
            raise NotFoundError
        return renamed

    async def delete_group(self, actor: User, group_id: int) -> None:
        """Delete a group: its members lose it, and what it granted."""
        require_staff(actor)
        if not await self._store.delete_group(group_id):
            raise NotFoundError
        await self._all_records_changed()  # every member lost it
        what = f"group #{group_id} deleted"
        await self._audit.record(audit.GROUP_CHANGE, reason=by_staff(what, actor))

    async def set_group_permissions(
        self, actor: User, group_id: int, permission_ids: Iterable[int]
    ) -> None:
        """Replace a group's permissions; NotFoundError if the group is gone."""
        await self.update_group(actor, group_id, permission_ids=permission_ids)

    # Permissions

    async def create_permission(self, actor: User, name: str, codename: str) -> Permission:
        """A new permission; ValidationError under `codename` if the codename is taken."""
        require_staff(actor)
        try:
            permission = await self._store.create_permission(name, codename)
        except ConflictError as conflict:
            raise ValidationError.single("codename", "permission_exists") from conflict
        what = f"permission #{permission.id} created {codename}"
        await self._audit.record(audit.PERMISSION_CHANGE, reason=by_staff(what, actor))
        return permission

    async def delete_permission(self, actor: User, permission_id: int) -> None:
        """Delete a permission: every user and group holding it loses it."""
        require_staff(actor)
        if not await self._store.delete_permission(permission_id):
            raise NotFoundError
        await self._all_records_changed()  # every holder lost it
        what = f"permission #{permission_id} deleted"
        await self._audit.record(audit.PERMISSION_CHANGE, reason=by_staff(what, actor))

    # A user's groups and own permissions

    async def assign(
        self,
        actor: User,
        user: User,
        *,
        group_ids: Iterable[int] | None = None,
        permission_ids: Iterable[int] | None = None,
    ) -> None:
        """Replace the user's groups and/or own permissions (None: leave as is). Both are
        checked before either changes: unknown ids of both are one ValidationError (under
        `groups` and `user_permissions`), and nothing is saved. Only a superuser may change
        a superuser's (as every change of a superuser: their rights are not staff's to shape)."""
        authorize_staff_change(actor, user)
        groups = None if group_ids is None else unique_ids(group_ids)
        permissions = None if permission_ids is None else unique_ids(permission_ids)
        errors: dict[str, list[Message]] = {}
        checks = ((groups, self.check_group_ids), (permissions, self.check_permission_ids))
        for ids, check in checks:
            if ids is None:
                continue
            try:
                await check(ids)
            except ValidationError as error:
                errors |= error.errors
        if errors:
            raise ValidationError(errors)
        if groups is not None:
            await self._replace_links(actor, "user_groups", user.id, groups)
        if permissions is not None:
            await self._replace_links(actor, "user_permissions", user.id, permissions)

    async def set_user_groups(self, actor: User, user: User, group_ids: Iterable[int]) -> None:
        """Replace the user's groups; unknown ids raise ValidationError under `groups`."""
        await self.assign(actor, user, group_ids=group_ids)

    async def set_user_permissions(
        self, actor: User, user: User, permission_ids: Iterable[int]
    ) -> None:
        """Replace the user's own permissions (`user_permissions`)."""
        await self.assign(actor, user, permission_ids=permission_ids)

    async def _replace_links(
        self, actor: User, link: LinkName, owner_id: int, checked_ids: list[int]
    ) -> None:
        """Replace the owner's links with ids already checked, and audit it; an unchanged
        set is no change (nothing written, nothing logged)."""
        if sorted(checked_ids) == await self._store.linked_ids(link, owner_id):
            return
        await self._store.set_links(link, owner_id, checked_ids)
        if link != "group_permissions" and self._revocations is not None:
            # The user's record shows them (no service behind authgate caches them: the feed).
            await self._revocations.publish(owner_id, push=False)
        ids = ids_text(sorted(checked_ids))
        if link == "group_permissions":
            what = f"group #{owner_id} permissions={ids}"
            await self._audit.record(audit.GROUP_CHANGE, reason=by_staff(what, actor))
        elif link == "user_groups":
            what = f"groups={ids}"
            await self._audit.record(
                audit.GROUPS_CHANGE, user_id=owner_id, reason=by_staff(what, actor)
            )
        else:
            what = f"user_permissions={ids}"
            await self._audit.record(
                audit.PERMISSIONS_CHANGE, user_id=owner_id, reason=by_staff(what, actor)
            )

    async def _all_records_changed(self) -> None:
        if self._revocations is not None:
            await self._revocations.publish_all()

    # What a user may do

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
