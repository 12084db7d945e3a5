"""The records dialect's paths, and the apps built from them: `/user/` and `/api/towns/` are
two mounts (one catch-all mount at `/` would take every unknown path of the service)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from authgate.core import Core
from authgate.dialects.base import Dialect
from authgate.dialects.drf import DrfViews, Endpoint, Metadata, Operation
from authgate.dialects.records import schemas as s
from authgate.dialects.records.views import RecordViews

USER_PREFIX = "/user"
TOWNS_PREFIX = "/api/towns"


def user_endpoints(views: RecordViews) -> list[Endpoint]:
    """`/user/<id>/`: any signed-in user reads any user's record."""
    return [
        Endpoint(
            "/{id}/",
            {
                "GET": Operation(
                    views.user_record,
                    "A user's record: groups, permissions, towns, days since joining",
                    response=s.UserRecordOut,
                )
            },
            metadata=Metadata("User Instance"),
        )
    ]


def town_endpoints(views: RecordViews) -> list[Endpoint]:
    """`/api/towns/`: anyone lists and reads; staff create, change and delete."""
    op = Operation
    town = s.TownOut
    return [
        Endpoint(
            "/",
            {
                "GET": op(views.list_towns, "Every town", public=True, response=town, many=True),
                "POST": op(
                    views.create_town,
                    "Create a town (staff)",
                    request=s.TownIn,
                    response=town,
                    status=201,
                ),
            },
            metadata=Metadata("Town List"),
        ),
        Endpoint(
            "/{id}/",
            {
                "GET": op(views.town_detail, "A town", public=True, response=town),
                "PUT": op(
                    views.replace_town, "Rename a town (staff)", request=s.TownIn, response=town
                ),
                "PATCH": op(
                    views.patch_town, "Rename a town (staff)", request=s.TownPatchIn, response=town
                ),
                "DELETE": op(views.delete_town, "Delete a town (staff)", status=204),
            },
            metadata=Metadata("Town Instance"),
        ),
    ]


def _dialect(drf: DrfViews, name: str, prefix: str, endpoints: list[Endpoint]) -> Dialect:
    app = Starlette(
        routes=drf.routes(endpoints), exception_handlers={HTTPException: drf.http_exception}
    )
    return Dialect(name, (prefix,), app, drf.fast_handlers((prefix,), endpoints), endpoints)


def build(core: Core) -> list[Dialect]:
    """The records dialect: user records at /user/ and towns at /api/towns/."""
    drf = DrfViews(core, "records")
    views = RecordViews(core)
    return [
        _dialect(drf, "records", USER_PREFIX, user_endpoints(views)),
        _dialect(drf, "towns", TOWNS_PREFIX, town_endpoints(views)),
    ]
