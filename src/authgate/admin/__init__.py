"""The staff admin UI at /admin/: server-rendered pages over the core (no script at all).

Session login (core/sessions.py), a CSRF token on every form, a strict CSP, staff only. Every
decision (who may change what) is the core's; the pages only read forms and render answers.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from authgate.admin import audit, auth, directory, overview, users
from authgate.admin.context import PREFIX, TEMPLATES, Admin
from authgate.core import Core

__all__ = ["PREFIX", "build"]

POST = ["POST"]
CSS = (TEMPLATES / "admin.css").read_text()


def build(core: Core) -> Starlette:
    """The admin app, to mount at PREFIX."""
    settings = core.settings
    admin = Admin(
        core=core,
        sessions=core.sessions,
        tokens=core.user_tokens,
        settings=settings,
    )
    user = "/users/{user_id:int}"
    routes = [
        Route("/", _home, methods=["GET"]),
        Route("/admin.css", _css, methods=["GET"]),
        Route("/login", auth.login_page, methods=["GET"]),
        Route("/login", auth.login, methods=POST),
        Route("/logout", auth.logout, methods=POST),
        Route("/overview", overview.overview, methods=["GET"]),
        Route("/users", users.user_list, methods=["GET"]),
        Route("/users/new", users.user_new, methods=["GET", "POST"]),
        Route(user, users.user_detail, methods=["GET"]),
        Route(f"{user}/profile", users.user_profile, methods=POST),
        Route(f"{user}/privileges", users.user_privileges, methods=POST),
        Route(f"{user}/rights", users.user_rights, methods=POST),
        Route(f"{user}/active", users.user_active, methods=POST),
        Route(f"{user}/password", users.user_password, methods=POST),
        Route(f"{user}/unlock", users.user_unlock, methods=POST),
        Route(f"{user}/tokens/revoke", users.revoke_token, methods=POST),
        Route(f"{user}/tokens/revoke-all", users.revoke_tokens, methods=POST),
        Route(f"{user}/sessions/revoke", users.end_session, methods=POST),
        Route(f"{user}/sessions/revoke-all", users.end_sessions, methods=POST),
        Route("/towns", directory.towns, methods=["GET", "POST"]),
        Route("/towns/{town_id:int}/rename", directory.town_rename, methods=POST),
        Route("/towns/{town_id:int}/delete", directory.town_delete, methods=POST),
        Route("/groups", directory.groups, methods=["GET", "POST"]),
        Route("/groups/{group_id:int}", directory.group_detail, methods=["GET", "POST"]),
        Route("/groups/{group_id:int}/delete", directory.group_delete, methods=POST),
        Route("/permissions", directory.permissions, methods=["GET", "POST"]),
        Route("/permissions/{permission_id:int}/delete", directory.permission_delete, methods=POST),
        Route("/audit", audit.audit_log, methods=["GET"]),
        Route("/lockouts", audit.lockouts, methods=["GET"]),
        Route("/lockouts/{user_id:int}/clear", audit.lockout_clear, methods=POST),
    ]
    app = Starlette(routes=routes)
    app.state.admin = admin
    return app


async def _home(_: Request) -> Response:
    return RedirectResponse(f"{PREFIX}/users", 303)


async def _css(_: Request) -> Response:
    # Pages carry no-store (the security headers); the stylesheet holds nothing private.
    return Response(CSS, media_type="text/css", headers={"cache-control": "max-age=300"})
