"""The directory dialect's handlers: each parses, calls the core, and shapes the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response

from authgate.core import Core
from authgate.core.errors import Message, NotFoundError
from authgate.core.groups import (
    GROUPS_FIELD,
    PERMISSIONS_FIELD,
    USER_PERMISSIONS_FIELD,
)
from authgate.core.models import Group, Principal, Town, User
from authgate.core.staff import authorize_staff_change, require_staff
from authgate.core.towns import MAX_ID
from authgate.dialects.directory import schemas as s
from authgate.dialects.djoser.views import FieldCheck, parse_body
from authgate.dialects.drf.negotiation import json, no_content
from authgate.dialects.pk_lists import parse_with_lists

G = TypeVar("G", s.GroupIn, s.GroupPatchIn)


def path_id(request: Request) -> int:
    """The id in a `.../<id>/` path (parse_id)."""
    return parse_id(request.path_params["id"])


def parse_id(given: str) -> int:
    """An id as a path gives it, read as Django reads a pk (Python's int()); NotFoundError
    when it is none, or beyond any id a database holds."""
    try:
        row_id = int(given)
    except ValueError:
        raise NotFoundError from None
    if not 0 < row_id <= MAX_ID:
        raise NotFoundError
    return row_id


class RecordViews:
    """The handlers of the directory dialect."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._towns = core.directory.towns
        self._groups = core.directory.groups

    @staticmethod
    def _user(principal: Principal | None) -> User:
        assert principal is not None  # noqa: S101 the dispatcher authenticated
        return principal.user

    # user/<id>/

    async def user_record(self, request: Request, principal: Principal | None) -> Response:
        assert principal is not None  # noqa: S101 the dispatcher authenticated
        return json(await self.record_answer(principal, request.path_params["id"]))

    async def record_answer(self, principal: Principal, given_id: str) -> orjson.Fragment:
        """GET /user/<id>/'s success, which the fast lane serves too: the record, as much of
        it as the caller may read (core/directory.py read_for, from its cache), as JSON
        rendered ahead but for its days_count (UserRecordOut.rendered)."""
        record = await self.core.directory.read_for(principal.user, parse_id(given_id))
        return s.UserRecordOut.rendered(record)

    async def patch_user_rights(self, request: Request, principal: Principal | None) -> Response:
        """Staff set a user's groups and own permissions: 403 before 404 before 400, as
        DRF checks; both lists are checked before either is saved."""
        actor = self._user(principal)
        require_staff(actor)
        user = await self.core.users.get(path_id(request))
        authorize_staff_change(actor, user)  # before the body, as DRF; assign checks it too
        parsing = parse_body(request, s.UserRightsIn)
        checks = {
            GROUPS_FIELD: self._groups.check_group_ids,
            USER_PERMISSIONS_FIELD: self._groups.check_permission_ids,
        }
        _, lists = await parse_with_lists(request, s.UserRightsIn, parsing, checks)
        await self._groups.assign(
            actor,
            user,
            group_ids=lists.get(GROUPS_FIELD),
            permission_ids=lists.get(USER_PERMISSIONS_FIELD),
        )
        return json(s.UserRecordOut.of(await self.core.directory.read(user.id)))

    # api/towns/ (reads are public; changes are staff only, checked before the body is read,
    # then the town is looked up, then the body: DRF's order, so 403 before 404 before 400)

    async def list_towns(self, _: Request, __: Principal | None) -> Response:
        return json([s.TownOut.of(town) for town in await self._towns.list_towns()])

    async def town_detail(self, request: Request, _: Principal | None) -> Response:
        return json(s.TownOut.of(await self._towns.get(path_id(request))))

    async def create_town(self, request: Request, principal: Principal | None) -> Response:
        actor = self._user(principal)
        self._towns.authorize(actor)
        body = await parse_body(request, s.TownIn, {"name": self._name_check(None)})
        town = await self._towns.create(actor, body.name)
        return json(s.TownOut.of(town), status=201)

    async def replace_town(self, request: Request, principal: Principal | None) -> Response:
        actor, town = await self._changeable(request, principal)
        body = await parse_body(request, s.TownIn, {"name": self._name_check(town)})
        return json(s.TownOut.of(await self._towns.rename(actor, town.id, body.name)))

    async def patch_town(self, request: Request, principal: Principal | None) -> Response:
        actor, town = await self._changeable(request, principal)
        body = await parse_body(request, s.TownPatchIn, {"name": self._name_check(town)})
        if body.name is not None and body.name != town.name:
            town = await self._towns.rename(actor, town.id, body.name)
        return json(s.TownOut.of(town))

    async def delete_town(self, request: Request, principal: Principal | None) -> Response:
        actor, town = await self._changeable(request, principal)
        await self._towns.delete(actor, town.id)
        return no_content()

    async def _changeable(self, request: Request, principal: Principal | None) -> tuple[User, Town]:
        actor = self._user(principal)
        self._towns.authorize(actor)
        return actor, await self._towns.get(path_id(request))

    def _name_check(self, town: Town | None) -> FieldCheck:
        """The name's uniqueness, as DRF's UniqueValidator: a town keeps its own name."""
        return _unique(self._towns.name_problems, None if town is None else town.id)

    # api/groups/ (reads for anyone signed in, changes for staff, in DRF's order as towns)

    async def list_groups(self, _: Request, principal: Principal | None) -> Response:
        self._user(principal)
        permissions = await self._groups.permissions_by_group()
        groups = await self._groups.list_groups()
        return json([s.GroupOut.of(g, permissions.get(g.id, [])) for g in groups])

    async def group_detail(self, request: Request, principal: Principal | None) -> Response:
        self._user(principal)
        group = await self._groups.get_group(path_id(request))
        return json(s.GroupOut.of(group, await self._groups.permissions_of_group(group.id)))

    async def create_group(self, request: Request, principal: Principal | None) -> Response:
        actor = self._user(principal)
        require_staff(actor)
        body, permissions = await self._group_body(request, s.GroupIn, None)
        group = await self._groups.create_group(actor, body.name, permissions or ())
        return json(await self._group_out(group), status=201)

    async def replace_group(self, request: Request, principal: Principal | None) -> Response:
        return await self._change_group(request, principal, s.GroupIn)

    async def patch_group(self, request: Request, principal: Principal | None) -> Response:
        return await self._change_group(request, principal, s.GroupPatchIn)

    async def delete_group(self, request: Request, principal: Principal | None) -> Response:
        actor = self._user(principal)
        require_staff(actor)
        await self._groups.delete_group(actor, path_id(request))
        return no_content()

    async def _change_group(
        self, request: Request, principal: Principal | None, model: type[G]
    ) -> Response:
        actor = self._user(principal)
        require_staff(actor)
        group = await self._groups.get_group(path_id(request))
        body, permissions = await self._group_body(request, model, group)
        changed = await self._groups.update_group(
            actor, group.id, name=body.name, permission_ids=permissions
        )
        return json(await self._group_out(changed))

    async def _group_body(
        self, request: Request, model: type[G], group: Group | None
    ) -> tuple[G, list[int] | None]:
        """The body, its name checked for uniqueness (a group keeps its own) and its
        permissions (None when not sent) for existence, all errors in one answer."""
        keep = None if group is None else group.id
        name_check = _unique(self._groups.group_name_problems, keep)
        parsing = parse_body(request, model, {"name": name_check})

        async def check(ids: list[int]) -> None:
            await self._groups.check_permission_ids(ids, PERMISSIONS_FIELD)

        body, lists = await parse_with_lists(request, model, parsing, {PERMISSIONS_FIELD: check})
        return body, lists.get(PERMISSIONS_FIELD)

    async def _group_out(self, group: Group) -> dict[str, object]:
        return s.GroupOut.of(group, await self._groups.permissions_of_group(group.id))

    # api/permissions/ (reads for anyone signed in, creation and deletion for staff)

    async def list_permissions(self, _: Request, principal: Principal | None) -> Response:
        self._user(principal)
        return json([s.PermissionOut.of(p) for p in await self._groups.list_permissions()])

    async def permission_detail(self, request: Request, principal: Principal | None) -> Response:
        self._user(principal)
        return json(s.PermissionOut.of(await self._groups.get_permission(path_id(request))))

    async def create_permission(self, request: Request, principal: Principal | None) -> Response:
        actor = self._user(principal)
        require_staff(actor)
        checks = {"codename": self._groups.codename_problems}
        body = await parse_body(request, s.PermissionIn, checks)
        permission = await self._groups.create_permission(actor, body.name, body.codename)
        return json(s.PermissionOut.of(permission), status=201)

    async def delete_permission(self, request: Request, principal: Principal | None) -> Response:
        actor = self._user(principal)
        require_staff(actor)
        await self._groups.delete_permission(actor, path_id(request))
        return no_content()


def _unique(problems: Callable[..., Awaitable[list[Message]]], keep: int | None) -> FieldCheck:
    """A name's uniqueness check, as DRF's UniqueValidator: the object being changed (`keep`)
    keeps its own name."""

    async def check(name: str) -> list[Message]:
        result: list[Message] = await problems(name, keep=keep)
        return result

    return check
