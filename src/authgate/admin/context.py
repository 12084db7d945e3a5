"""What every admin page shares: the core, the session cookie, CSRF, and rendering.

The admin is a thin HTTP adapter over the core, as the dialects are: each page reads the
session, lets the core decide (staff only, superuser only), and renders a template.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from authgate.core import Core
from authgate.core.errors import Message, NotFoundError, PermissionDeniedError, ValidationError
from authgate.core.sessions import Session, Sessions
from authgate.core.text import BIGINT_MAX, text_problems
from authgate.core.user_tokens import UserTokens
from authgate.http.cookie_names import cookie_names
from authgate.http.errors import MalformedBodyError
from authgate.http.i18n import translate
from authgate.http.parsing import require_utf8_form
from authgate.http.secure_cookies import secure_cookies
from authgate.http.session_cookie import clear_session_cookie, set_session_cookie
from authgate.settings import Settings

if TYPE_CHECKING:
    from jinja2 import Environment

PREFIX = "/admin"
# No script at all, styles from our own stylesheet only, forms post only to us, never framed.
ADMIN_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
CSRF_FIELD = "csrf_token"
TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_ID = BIGINT_MAX
BAD_ENCODING = "The form is not UTF-8."

Handler = Callable[[Request, "Admin", Session], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Admin:
    """The admin's services and its settings (for its cookies)."""

    core: Core
    sessions: Sessions
    tokens: UserTokens
    settings: Settings

    def secure_cookies(self, request: Request) -> bool:
        """Whether this request's cookies are Secure (http/secure_cookies.py)."""
        return secure_cookies(request, self.settings)

    def session_cookie(self, request: Request) -> str:
        """The session cookie's name (http/cookie_names.py)."""
        return cookie_names(self.secure_cookies(request)).session

    def login_csrf_cookie(self, request: Request) -> str:
        """The login form's cookie's name (http/cookie_names.py)."""
        return cookie_names(self.secure_cookies(request)).admin_login_csrf

    def render(
        self,
        request: Request,
        template: str,
        session: Session | None = None,
        *,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        """A page, with the session's user and CSRF token for its forms."""
        page = (
            templates()
            .get_template(template)
            .render(
                request=request,
                me=session.user if session else None,
                csrf=self.sessions.csrf_token(session) if session else "",
                notice=NOTICES.get(request.query_params.get("done", "")),
                prefix=PREFIX,
                **values,
            )
        )
        return HTMLResponse(
            page, status_code=status, headers={"content-security-policy": ADMIN_CSP}
        )

    async def session_of(self, request: Request) -> Session | None:
        """The request's live session, if its cookie carries one."""
        raw = request.cookies.get(self.session_cookie(request))
        return await self.sessions.resolve(raw) if raw else None

    def set_session_cookie(self, request: Request, response: Response, raw: str) -> None:
        """The session cookie (http/session_cookie.py)."""
        set_session_cookie(response, raw, secure=self.secure_cookies(request))

    def clear_session_cookie(self, request: Request, response: Response) -> None:
        """Forget the session cookie in the browser."""
        clear_session_cookie(response, secure=self.secure_cookies(request))

    def login_csrf(self, request: Request) -> str:
        """The login form's token (double submit: the form and a cookie must agree, so a
        cross-site form cannot log a browser into an attacker's account)."""
        return request.cookies.get(self.login_csrf_cookie(request)) or secrets.token_urlsafe(32)

    def set_login_csrf(self, request: Request, response: Response, token: str) -> None:
        """The login form's cookie: Path=/ (which `__Host-` requires; SameSite=Strict keeps it
        off every cross-site request, HttpOnly from scripts)."""
        name, attributes = self.login_csrf_cookie(request), self._login_csrf_attributes(request)
        response.set_cookie(name, token, **attributes)

    def clear_login_csrf(self, request: Request, response: Response) -> None:
        """Forget the login form's cookie (with the attributes it was set with: a `__Host-`
        cookie is only replaced by a Secure one at Path=/)."""
        name, attributes = self.login_csrf_cookie(request), self._login_csrf_attributes(request)
        response.delete_cookie(name, **attributes)

    def _login_csrf_attributes(self, request: Request) -> dict[str, Any]:
        secure = self.secure_cookies(request)
        return {"path": "/", "httponly": True, "secure": secure, "samesite": "strict"}


NOTICES = {
    "created": "User created.",
    "saved": "Saved.",
    "password": "Password changed; the user's tokens and sessions are ended.",
    "deactivated": "User deactivated; their tokens and sessions are ended.",
    "activated": "User activated.",
    "unlocked": "Lockout cleared.",
    "token": "Token revoked.",
    "tokens": "Every token of the user revoked.",
    "session": "Session ended.",
    "sessions": "Every session of the user ended.",
    "gone": "It was already gone.",
    "town": "Towns updated.",
    "group": "Groups updated.",
    "rights": "Groups and permissions saved.",
    "permission": "Permissions updated.",
}


def redirect(path: str, done: str | None = None) -> RedirectResponse:
    """See Other after a POST, with a notice to show."""
    return RedirectResponse(f"{PREFIX}{path}" + (f"?done={done}" if done else ""), 303)


def messages(errors: Mapping[str, list[Message]]) -> dict[str, list[str]]:
    """Field errors as English text."""
    return {
        field or "form": [translate(m.code, "en", m.params) for m in found]
        for field, found in errors.items()
    }


def staff_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for staff: no session goes to the login page, a user who is not (or no longer)
    staff gets 403, and every POST must carry the session's CSRF token."""

    @wraps(handler)
    async def page(request: Request) -> Response:
        admin: Admin = request.app.state.admin
        session = await admin.session_of(request)
        if session is None:
            return RedirectResponse(f"{PREFIX}/login", 303)
        if not (session.user.is_active and session.user.is_staff):
            return admin.render(request, "refused.html", session, status=403)
        if any(isinstance(v, int) and v > MAX_ID for v in request.path_params.values()):
            # Past any BIGINT: no such row, and PostgreSQL would refuse the query.
            return admin.render(request, "missing.html", session, status=404)
        if errors := await input_errors(request):
            return admin.render(request, "invalid.html", session, status=400, errors=errors)
        if request.method == "POST":
            form = await request.form()
            if not admin.sessions.check_csrf(session, _field(form, CSRF_FIELD)):
                return admin.render(request, "csrf.html", session, status=403)
        try:
            return await handler(request, admin, session)
        except NotFoundError:
            return admin.render(request, "missing.html", session, status=404)
        except PermissionDeniedError:
            return admin.render(request, "refused.html", session, status=403)

    return page


async def input_errors(request: Request) -> dict[str, list[str]]:
    """What no page may take, as field errors: a form that is not UTF-8, and text no store can
    hold (core/text.py) in any query parameter or form field, checked here once for every
    page, so that no search, filter or form hands it to the core."""
    values: list[tuple[str, object]] = list(request.query_params.multi_items())
    if request.method == "POST":
        try:
            await require_utf8_form(request)
        except MalformedBodyError:
            return {"form": [BAD_ENCODING]}
        values += (await request.form()).multi_items()
    errors: dict[str, list[str]] = {}
    for name, value in values:
        if isinstance(value, str) and (problems := text_problems(value)):
            errors.setdefault(name, []).extend(translate(p.code, "en", p.params) for p in problems)
    return errors


def page_id(value: str) -> int | None:
    """A paging parameter's id (`after`, `before`), or None for one that names no row."""
    # isdecimal, not isdigit: int() cannot read a superscript digit (`²`).
    return int(value) if value.isdecimal() and 0 < int(value) <= MAX_ID else None


def _field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


async def form_text(request: Request, name: str) -> str:
    """A text field of the request's form ("" when absent or a file)."""
    return _field(await request.form(), name) or ""


async def form_ids(request: Request, name: str) -> list[int]:
    """Every value of a repeated field (ticked checkboxes) as ids; ValidationError under
    `name` for one that is no id (only a forged form sends such)."""
    ids: list[int] = []
    for value in (await request.form()).getlist(name):
        if not isinstance(value, str) or not value.isdecimal():
            data_type = type(value).__name__
            raise ValidationError.single(name, "pk_incorrect_type", data_type=data_type)
        ids.append(int(value))
    return ids


@cache
def templates() -> Environment:
    """Jinja2 with autoescaping on for every template (all are HTML), made for the first page
    rendered: Jinja2 is some 3 MiB of a serving worker (bench/memory.py) that only the admin's
    pages need, and the admin is on by default."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        auto_reload=False,
    )
