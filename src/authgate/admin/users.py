"""The users pages: search, create, and one user's page with every change staff may make."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authgate.admin.context import (
    Admin,
    form_ids,
    form_text,
    messages,
    page_id,
    redirect,
    staff_page,
)
from authgate.core.errors import ValidationError
from authgate.core.groups import GROUPS_FIELD, USER_PERMISSIONS_FIELD
from authgate.core.models import User
from authgate.core.sessions import Session
from authgate.core.staff import authorize_staff_change, may_change_user

PAGE_SIZE = 50


@staff_page
async def user_list(request: Request, admin: Admin, session: Session) -> Response:
    """A page of users by id, or of those whose username, email or name contains `q`
    (ignoring case, taken literally): the database searches and pages (`after`: the last id
    of the page before)."""
    query = request.query_params.get("q", "").strip()
    after = request.query_params.get("after", "")
    after_id = page_id(after) or 0
    # One more than a page: whether a next page exists, without counting.
    found = await admin.core.users.search(
        session.user, query, after_id=after_id, limit=PAGE_SIZE + 1
    )
    users = found[:PAGE_SIZE]
    return admin.render(
        request,
        "users.html",
        session,
        users=users,
        next_after=users[-1].id if len(found) > PAGE_SIZE else None,
        paged=after_id > 0,
        q=query,
    )


@staff_page
async def user_new(request: Request, admin: Admin, session: Session) -> Response:
    """The creation form, and (POST) the user it creates, through registration's checks."""
    if request.method == "GET":
        return admin.render(request, "user_new.html", session, errors={}, values={})
    values = {k: await form_text(request, k) for k in ("username", "email", "password")}
    try:
        user = await admin.core.users.register(
            username=values["username"],
            email=values["email"],
            password=values["password"],
            password_retype=await form_text(request, "password_retype"),
            by_staff=True,
        )
    except ValidationError as error:
        return _new_again(request, admin, session, values, messages(error.errors))
    return redirect(f"/users/{user.id}", "created")


def _new_again(
    request: Request,
    admin: Admin,
    session: Session,
    values: dict[str, str],
    errors: dict[str, list[str]],
) -> Response:
    values = {k: v for k, v in values.items() if k != "password"}  # never echoed back
    return admin.render(request, "user_new.html", session, status=400, errors=errors, values=values)


@staff_page
async def user_detail(request: Request, admin: Admin, session: Session) -> Response:
    """One user: their fields, privileges, tokens and sessions."""
    user = await admin.core.users.get(request.path_params["user_id"])
    return await render_user(request, admin, session, user)


async def render_user(
    request: Request,
    admin: Admin,
    session: Session,
    user: User,
    *,
    errors: dict[str, list[str]] | None = None,
) -> Response:
    """A user's page (with `errors`: a 400 answer to a form that failed)."""
    groups = admin.core.directory.groups
    record = await admin.core.directory.read(user.id)
    return admin.render(
        request,
        "user.html",
        session,
        status=400 if errors else 200,
        user=user,
        errors=errors or {},
        roles=admin.core.settings.roles,
        manageable=may_change_user(session.user, user),
        groups=await groups.list_groups(),
        permissions=await groups.list_permissions(),
        links=record.links,
        tokens=await admin.tokens.list_for(session.user, user),
        sessions=await admin.sessions.list_for(session.user, user),
        current=session.record.digest,
    )


async def _target(admin: Admin, session: Session, request: Request) -> User:
    """The user a change is about, if the actor may change them (staff who are not
    superusers may not change a superuser: core/staff.py may_change_user). Checked here
    before the form is read; each core operation checks it again."""
    user = await admin.core.users.get(request.path_params["user_id"])
    authorize_staff_change(session.user, user)
    return user


@staff_page
async def user_profile(request: Request, admin: Admin, session: Session) -> Response:
    """Change email and names."""
    user = await _target(admin, session, request)
    try:
        await admin.core.users.update_profile(
            user,
            email=await form_text(request, "email"),
            first_name=await form_text(request, "first_name"),
            last_name=await form_text(request, "last_name"),
            actor=session.user,
        )
    except ValidationError as error:
        return await render_user(request, admin, session, user, errors=messages(error.errors))
    return redirect(f"/users/{user.id}", "saved")


@staff_page
async def user_privileges(request: Request, admin: Admin, session: Session) -> Response:
    """Role and staff/superuser flags (the core lets only a superuser change superuser)."""
    user = await _target(admin, session, request)
    try:
        await admin.core.users.set_privileges(
            user,
            actor=session.user,
            role=await form_text(request, "role"),
            is_staff=await form_text(request, "is_staff") == "on",
            is_superuser=await form_text(request, "is_superuser") == "on",
            roles=admin.core.settings.roles,
        )
    except ValidationError as error:
        return await render_user(request, admin, session, user, errors=messages(error.errors))
    return redirect(f"/users/{user.id}", "saved")


@staff_page
async def user_rights(request: Request, admin: Admin, session: Session) -> Response:
    """Replace the user's groups and own permissions with the boxes ticked (none ticked:
    none); unknown ids (a group deleted since the page was drawn) change nothing."""
    user = await _target(admin, session, request)
    try:
        await admin.core.directory.groups.assign(
            session.user,
            user,
            group_ids=await form_ids(request, GROUPS_FIELD),
            permission_ids=await form_ids(request, USER_PERMISSIONS_FIELD),
        )
    except ValidationError as error:
        return await render_user(request, admin, session, user, errors=messages(error.errors))
    return redirect(f"/users/{user.id}", "rights")


@staff_page
async def user_active(request: Request, admin: Admin, session: Session) -> Response:
    """Deactivate (ending every token and session) or activate."""
    user = await _target(admin, session, request)
    active = await form_text(request, "active") == "1"
    await admin.core.users.set_active(user, active=active, actor=session.user)
    return redirect(f"/users/{user.id}", "activated" if active else "deactivated")


@staff_page
async def user_password(request: Request, admin: Admin, session: Session) -> Response:
    """Set a new password, with the password validators."""
    user = await _target(admin, session, request)
    try:
        await admin.core.users.set_password(
            user,
            await form_text(request, "new_password"),
            retype=await form_text(request, "new_password_retype"),
            actor=session.user,
        )
    except ValidationError as error:
        return await render_user(request, admin, session, user, errors=messages(error.errors))
    # The core ends every session of the user: if that was the actor, this one is gone too.
    return redirect(f"/users/{user.id}", "password")


@staff_page
async def user_unlock(request: Request, admin: Admin, session: Session) -> Response:
    """Lift a lockout of this user."""
    user = await admin.core.users.get(request.path_params["user_id"])
    await admin.core.logins.unlock(user)
    return redirect(f"/users/{user.id}", "unlocked")


@staff_page
async def revoke_token(request: Request, admin: Admin, session: Session) -> Response:
    """Revoke one token (named by its digest)."""
    user = await _target(admin, session, request)
    done = await admin.tokens.revoke(session.user, user, await form_text(request, "digest"))
    return redirect(f"/users/{user.id}", "token" if done else "gone")


@staff_page
async def revoke_tokens(request: Request, admin: Admin, session: Session) -> Response:
    """Revoke every token of the user."""
    user = await _target(admin, session, request)
    await admin.tokens.revoke_all(session.user, user)
    return redirect(f"/users/{user.id}", "tokens")


@staff_page
async def end_session(request: Request, admin: Admin, session: Session) -> Response:
    """End one session (named by its digest)."""
    user = await _target(admin, session, request)
    done = await admin.sessions.revoke(session.user, user, await form_text(request, "digest"))
    return redirect(f"/users/{user.id}", "session" if done else "gone")


@staff_page
async def end_sessions(request: Request, admin: Admin, session: Session) -> Response:
    """End every session of the user."""
    user = await _target(admin, session, request)
    await admin.sessions.revoke_every(session.user, user)
    return redirect(f"/users/{user.id}", "sessions")
