"""The records dialect's handlers: each parses, calls the core, and shapes the answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authgate.core import Core
from authgate.core.errors import Message, NotFoundError
from authgate.core.models import Principal, User
from authgate.core.towns import MAX_ID, Town
from authgate.dialects.djoser.views import FieldCheck, parse_body
from authgate.dialects.drf import json, no_content
from authgate.dialects.records import schemas as s


def path_id(request: Request) -> int:
    """The id in a `.../<id>/` path, read as Django reads a pk (Python's int());
    NotFoundError when it is none, or beyond any id a database holds."""
    try:
        row_id = int(request.path_params["id"])
    except ValueError:
        raise NotFoundError from None
    if not 0 < row_id <= MAX_ID:
        raise NotFoundError
    return row_id


class RecordViews:
    """The handlers of the records dialect."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._towns = core.records.towns

    @staticmethod
    def _user(principal: Principal | None) -> User:
        assert principal is not None  # noqa: S101 the dispatcher authenticated
        return principal.user

    # user/<id>/

    async def user_record(self, request: Request, principal: Principal | None) -> Response:
        self._user(principal)  # any signed-in user may read any record (core/records.py)
        record = await self.core.records.read(path_id(request))
        return json(s.UserRecordOut.of(record))

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
        keep = None if town is None else town.id

        async def check(name: str) -> list[Message]:
            return await self._towns.name_problems(name, keep=keep)

        return check
