"""Towns and groups: list, create, rename (towns) and delete, through core.records."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authgate.admin.context import Admin, form_text, messages, redirect, staff_page
from authgate.core.errors import ValidationError
from authgate.core.sessions import Session
from authgate.core.towns import TOWN_NAME_MAX_LENGTH

# Django's auth.Group.name (store/schema.py; the admin may not import the store).
GROUP_NAME_MAX_LENGTH = 150


@staff_page
async def towns(request: Request, admin: Admin, session: Session) -> Response:
    """Every town; POST creates one."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            await admin.core.records.towns.create(session.user, await _name(request))
        except ValidationError as error:
            errors = messages(error.errors)
        else:
            return redirect("/towns", "town")
    found = await admin.core.records.towns.list_towns()
    status = 400 if errors else 200
    return admin.render(request, "towns.html", session, status=status, towns=found, errors=errors)


@staff_page
async def town_rename(request: Request, admin: Admin, session: Session) -> Response:
    """Rename a town."""
    town_id = request.path_params["town_id"]
    try:
        await admin.core.records.towns.rename(session.user, town_id, await _name(request))
    except ValidationError as error:
        found = await admin.core.records.towns.list_towns()
        errors = messages(error.errors)
        return admin.render(request, "towns.html", session, status=400, towns=found, errors=errors)
    return redirect("/towns", "town")


@staff_page
async def town_delete(request: Request, admin: Admin, session: Session) -> Response:
    """Delete a town (it leaves every user's towns)."""
    await admin.core.records.towns.delete(session.user, request.path_params["town_id"])
    return redirect("/towns", "town")


@staff_page
async def groups(request: Request, admin: Admin, session: Session) -> Response:
    """Every group and permission; POST creates a group."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            await admin.core.records.groups.create_group(
                session.user, await _name(request, GROUP_NAME_MAX_LENGTH)
            )
        except ValidationError as error:
            errors = messages(error.errors)
        else:
            return redirect("/groups", "group")
    return admin.render(
        request,
        "groups.html",
        session,
        status=400 if errors else 200,
        groups=await admin.core.records.groups.list_groups(),
        permissions=await admin.core.records.groups.list_permissions(),
        errors=errors,
    )


@staff_page
async def group_delete(request: Request, admin: Admin, session: Session) -> Response:
    """Delete a group (its members lose it)."""
    await admin.core.records.groups.delete_group(session.user, request.path_params["group_id"])
    return redirect("/groups", "group")


async def _name(request: Request, max_length: int = TOWN_NAME_MAX_LENGTH) -> str:
    """The form's name, which must not be blank or too long for its column (the core checks
    uniqueness)."""
    name = (await form_text(request, "name")).strip()
    if not name:
        raise ValidationError.single("name", "blank")
    if len(name) > max_length:
        raise ValidationError.single("name", "max_length", max_length=max_length)
    return name
