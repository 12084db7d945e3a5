"""Towns, groups and permissions: list, create, rename, delete, and a group's permissions,
through core.directory (which audits every change of groups and permissions)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from authgate.admin.context import Admin, form_ids, form_text, messages, redirect, staff_page
from authgate.constants import (
    GROUP_NAME_MAX_LENGTH,
    PERMISSION_CODENAME_MAX_LENGTH,
    PERMISSION_NAME_MAX_LENGTH,
    TOWN_NAME_MAX_LENGTH,
)
from authgate.core.errors import ValidationError
from authgate.core.groups import PERMISSIONS_FIELD
from authgate.core.models import Group
from authgate.core.sessions import Session

Values = Callable[[], Awaitable[dict[str, object]]]


async def _listing(
    request: Request,
    admin: Admin,
    session: Session,
    path: str,
    done: str,
    create: Callable[[], Awaitable[object]],
    values: Values,
) -> Response:
    """A list page (`path`, drawn by the template of its name with `values`) whose form
    creates one more on POST: a redirect with the `done` notice when the core accepts it,
    the page again with the errors (400) when not."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            await create()
        except ValidationError as error:
            errors = messages(error.errors)
        else:
            return redirect(path, done)
    status = 400 if errors else 200
    page = f"{path.strip('/')}.html"
    return admin.render(request, page, session, status=status, errors=errors, **await values())


@staff_page
async def towns(request: Request, admin: Admin, session: Session) -> Response:
    """Every town; POST creates one."""
    towns = admin.core.directory.towns

    async def create() -> None:
        await towns.create(session.user, await _name(request))

    async def values() -> dict[str, object]:
        return {"towns": await towns.list_towns()}

    return await _listing(request, admin, session, "/towns", "town", create, values)


@staff_page
async def town_rename(request: Request, admin: Admin, session: Session) -> Response:
    """Rename a town."""
    town_id = request.path_params["town_id"]
    try:
        await admin.core.directory.towns.rename(session.user, town_id, await _name(request))
    except ValidationError as error:
        found = await admin.core.directory.towns.list_towns()
        errors = messages(error.errors)
        return admin.render(request, "towns.html", session, status=400, towns=found, errors=errors)
    return redirect("/towns", "town")


@staff_page
async def town_delete(request: Request, admin: Admin, session: Session) -> Response:
    """Delete a town (it leaves every user's towns)."""
    await admin.core.directory.towns.delete(session.user, request.path_params["town_id"])
    return redirect("/towns", "town")


@staff_page
async def groups(request: Request, admin: Admin, session: Session) -> Response:
    """Every group with its permissions; POST creates a group."""
    groups = admin.core.directory.groups

    async def create() -> None:
        await groups.create_group(session.user, await _name(request, GROUP_NAME_MAX_LENGTH))

    async def values() -> dict[str, object]:
        return {
            "groups": await groups.list_groups(),
            "granted": await groups.permissions_by_group(),
            "permissions": {p.id: p for p in await groups.list_permissions()},
        }

    return await _listing(request, admin, session, "/groups", "group", create, values)


@staff_page
async def group_detail(request: Request, admin: Admin, session: Session) -> Response:
    """One group: its name and its permissions (checkboxes); POST saves both, checked
    together before either changes."""
    groups = admin.core.directory.groups
    group = await groups.get_group(request.path_params["group_id"])
    if request.method == "GET":
        return await _group_page(request, admin, session, group)
    try:
        await groups.update_group(
            session.user,
            group.id,
            name=await _name(request, GROUP_NAME_MAX_LENGTH),
            permission_ids=await form_ids(request, PERMISSIONS_FIELD),
        )
    except ValidationError as error:
        return await _group_page(request, admin, session, group, messages(error.errors))
    return redirect(f"/groups/{group.id}", "group")


async def _group_page(
    request: Request,
    admin: Admin,
    session: Session,
    group: Group,
    errors: dict[str, list[str]] | None = None,
) -> Response:
    groups = admin.core.directory.groups
    return admin.render(
        request,
        "group.html",
        session,
        status=400 if errors else 200,
        group=group,
        granted=await groups.permissions_of_group(group.id),
        permissions=await groups.list_permissions(),
        errors=errors or {},
    )


@staff_page
async def group_delete(request: Request, admin: Admin, session: Session) -> Response:
    """Delete a group (its members lose it)."""
    await admin.core.directory.groups.delete_group(session.user, request.path_params["group_id"])
    return redirect("/groups", "group")


@staff_page
async def permissions(request: Request, admin: Admin, session: Session) -> Response:
    """Every permission; POST creates one."""
    groups = admin.core.directory.groups

    async def create() -> None:
        name = await _name(request, PERMISSION_NAME_MAX_LENGTH)
        codename = await _name(request, PERMISSION_CODENAME_MAX_LENGTH, "codename")
        await groups.create_permission(session.user, name, codename)

    async def values() -> dict[str, object]:
        return {"permissions": await groups.list_permissions()}

    return await _listing(request, admin, session, "/permissions", "permission", create, values)


@staff_page
async def permission_delete(request: Request, admin: Admin, session: Session) -> Response:
    """Delete a permission (every user and group holding it loses it)."""
    permission_id = request.path_params["permission_id"]
    await admin.core.directory.groups.delete_permission(session.user, permission_id)
    return redirect("/permissions", "permission")


async def _name(
    request: Request, max_length: int = TOWN_NAME_MAX_LENGTH, field: str = "name"
) -> str:
    """The form's text `field`, which must not be blank or too long for its column (the core
    checks uniqueness)."""
    name = (await form_text(request, field)).strip()
    if not name:
        raise ValidationError.single(field, "blank")
    if len(name) > max_length:
        raise ValidationError.single(field, "max_length", max_length=max_length)
    return name
