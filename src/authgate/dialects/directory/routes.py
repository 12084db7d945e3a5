"""The directory dialect's paths, and the routes built from them: `/user/`, `/api/towns/`,
`/api/groups/` and `/api/permissions/` are each mounted at a prefix of their own (one
catch-all mount at `/` would take every unknown path of the service)."""

from __future__ import annotations

from authgate.core import Core
from authgate.dialects.base import Dialect
from authgate.dialects.directory import schemas as s
from authgate.dialects.directory.views import RecordViews
from authgate.dialects.drf.views import DrfViews
from authgate.dialects.endpoints import Endpoint, Metadata, Operation

USER_PREFIX = "/user"
TOWNS_PREFIX = "/api/towns"
GROUPS_PREFIX = "/api/groups"
PERMISSIONS_PREFIX = "/api/permissions"


def user_endpoints(views: RecordViews) -> list[Endpoint]:
    """`/user/<id>/`: any signed-in user reads any user's record; staff set its groups and
    own permissions. Under AUTHGATE_USER_RECORDS_VISIBILITY=limited, another's record may be
    its public part only."""
    limited = views.core.settings.user_records_visibility == "limited"
    record = s.UserRecordOrProfileOut if limited else s.UserRecordOut
    return [
        Endpoint(
            "/{id}/",
            {
                "GET": Operation(
                    views.user_record,
                    "A user's record: groups, permissions, towns, days since joining",
                    response=record,
                    answer_by_id=views.record_answer,
                ),
                "PATCH": Operation(
                    views.patch_user_rights,
                    "Set a user's groups and own permissions (staff)",
                    request=s.UserRightsIn,
                    response=s.UserRecordOut,
                ),
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


def group_endpoints(views: RecordViews) -> list[Endpoint]:
    """`/api/groups/`: anyone signed in lists and reads; staff create, change and delete."""
    op = Operation
    group = s.GroupOut
    return [
        Endpoint(
            "/",
            {
                "GET": op(views.list_groups, "Every group", response=group, many=True),
                "POST": op(
                    views.create_group,
                    "Create a group (staff)",
                    request=s.GroupIn,
                    response=group,
                    status=201,
                ),
            },
            metadata=Metadata("Group List"),
        ),
        Endpoint(
            "/{id}/",
            {
                "GET": op(views.group_detail, "A group", response=group),
                "PUT": op(
                    views.replace_group,
                    "Rename a group, set its permissions (staff)",
                    request=s.GroupIn,
                    response=group,
                ),
                "PATCH": op(
                    views.patch_group,
                    "Rename a group and/or set its permissions (staff)",
                    request=s.GroupPatchIn,
                    response=group,
                ),
                "DELETE": op(views.delete_group, "Delete a group (staff)", status=204),
            },
            metadata=Metadata("Group Instance"),
        ),
    ]


def permission_endpoints(views: RecordViews) -> list[Endpoint]:
    """`/api/permissions/`: anyone signed in lists and reads; staff create and delete."""
    op = Operation
    permission = s.PermissionOut
    return [
        Endpoint(
            "/",
            {
                "GET": op(
                    views.list_permissions, "Every permission", response=permission, many=True
                ),
                "POST": op(
                    views.create_permission,
                    "Create a permission (staff)",
                    request=s.PermissionIn,
                    response=permission,
                    status=201,
                ),
            },
            metadata=Metadata("Permission List"),
        ),
        Endpoint(
            "/{id}/",
            {
                "GET": op(views.permission_detail, "A permission", response=permission),
                "DELETE": op(views.delete_permission, "Delete a permission (staff)", status=204),
            },
            metadata=Metadata("Permission Instance"),
        ),
    ]


def _dialect(drf: DrfViews, name: str, prefix: str, endpoints: list[Endpoint]) -> Dialect:
    fast = drf.fast_handlers((prefix,), endpoints)
    routes = drf.routes(endpoints)
    return Dialect(name, (prefix,), routes, drf.http_exception, fast, endpoints, drf.security)


def build(core: Core) -> list[Dialect]:
    """The directory dialect: user records at /user/, towns at /api/towns/, groups and
    permissions at /api/groups/ and /api/permissions/."""
    drf = DrfViews(core, "directory")
    views = RecordViews(core)
    return [
        _dialect(drf, "directory", USER_PREFIX, user_endpoints(views)),
        _dialect(drf, "towns", TOWNS_PREFIX, town_endpoints(views)),
        _dialect(drf, "groups", GROUPS_PREFIX, group_endpoints(views)),
        _dialect(drf, "permissions", PERMISSIONS_PREFIX, permission_endpoints(views)),
    ]
