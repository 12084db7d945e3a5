"""The audit log with filters, and lockouts (recent ones, each clearable)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authgate.admin.context import Admin, page_id, redirect, staff_page
from authgate.core import audit
from authgate.core.identity import username_key
from authgate.core.sessions import Session

PAGE_SIZE = 100
EVENTS = (
    audit.LOGIN,
    audit.LOGOUT,
    audit.LOGOUT_ALL,
    audit.TOKEN_REVOKED,
    audit.REFRESH_REUSE,
    audit.PASSWORD_CHANGE,
    audit.USERNAME_CHANGE,
    audit.PASSWORD_RESET_REQUEST,
    audit.PASSWORD_RESET,
    audit.ACTIVATION,
    audit.ROLE_CHANGE,
    audit.LOCKOUT,
    audit.UNLOCK,
    audit.REGISTER,
    audit.PROFILE_CHANGE,
    audit.DEACTIVATION,
    audit.GROUPS_CHANGE,
    audit.PERMISSIONS_CHANGE,
    audit.GROUP_CHANGE,
    audit.PERMISSION_CHANGE,
)


@staff_page
async def audit_log(request: Request, admin: Admin, session: Session) -> Response:
    """Entries newest first, by user (username) and event, a page at a time (`before`)."""
    params = request.query_params
    username = params.get("user", "").strip()
    event = params.get("event", "")
    before = params.get("before", "")
    user_id: int | None = None
    unknown_user = False
    if username:
        found = await admin.core.store.get_user_by_username_key(username_key(username))
        user_id, unknown_user = (found.id, False) if found else (None, True)
    entries = (
        []
        if unknown_user
        else await admin.core.audit.events_for(
            session.user,
            user_id=user_id,
            event=event if event in EVENTS else None,
            before_id=page_id(before),
            limit=PAGE_SIZE,
        )
    )
    return admin.render(
        request,
        "audit.html",
        session,
        entries=entries,
        names=await _names(admin),
        events=EVENTS,
        user=username,
        event=event,
        unknown_user=unknown_user,
        next_before=entries[-1].id if len(entries) == PAGE_SIZE else None,
    )


@staff_page
async def lockouts(request: Request, admin: Admin, session: Session) -> Response:
    """Recent lockouts (from the audit log), each with a button that clears it."""
    entries = await admin.core.audit.events_for(session.user, event=audit.LOCKOUT, limit=200)
    return admin.render(
        request, "lockouts.html", session, entries=entries, names=await _names(admin)
    )


@staff_page
async def lockout_clear(request: Request, admin: Admin, session: Session) -> Response:
    """Clear a user's lockout."""
    user = await admin.core.users.get(request.path_params["user_id"])
    await admin.core.logins.unlock(user)
    return redirect("/lockouts", "unlocked")


async def _names(admin: Admin) -> dict[int, str]:
    """Usernames by id, to show entries by name (one read of the users table)."""
    return {u.id: u.username for u in await admin.core.store.list_users()}
