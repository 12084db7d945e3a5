"""Logging in and out of the admin: a session for staff, nothing for anyone else."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authgate.admin.context import (
    CSRF_FIELD,
    PREFIX,
    Admin,
    form_text,
    input_errors,
    staff_page,
)
from authgate.core.errors import InvalidCredentialsError, ThrottledError
from authgate.core.sessions import Session

BAD_LOGIN = "Unable to log in with provided credentials."
NOT_STAFF = "This account has no access to the admin."
BAD_FORM = "The form expired; please try again."
# The login form's cookie did not come back over plain HTTP: the transport is the reason, not
# the clock (browsers drop a Secure cookie from plain HTTP on any host but localhost).
COOKIE_NOT_RETURNED = (
    "Your browser did not send the admin's cookie back: the admin's cookies are Secure "
    "(AUTHGATE_COOKIE_SECURE), browsers return Secure cookies only over HTTPS (or to "
    "localhost), and this page was served over plain HTTP. Serve the admin over HTTPS, or "
    "set AUTHGATE_COOKIE_SECURE=false for local testing."
)


async def login_page(request: Request) -> Response:
    """The login form (a staff member already logged in goes straight to the users)."""
    admin: Admin = request.app.state.admin
    session = await admin.session_of(request)
    if session is not None and session.user.is_staff:
        return RedirectResponse(f"{PREFIX}/users", 303)
    return _form(request, admin)


async def login(request: Request) -> Response:
    """Check the form's token and the credentials; staff get a new session (a new value at
    every login, so a value planted before it is worth nothing), anyone else a refusal."""
    admin: Admin = request.app.state.admin
    if errors := await input_errors(request):  # NUL in a name, say: never looked up
        return _form(request, admin, error=_sentence(errors), status=400)
    expected = request.cookies.get(admin.login_csrf_cookie(request), "")
    presented = await form_text(request, CSRF_FIELD)
    if not expected and _plain_http(request) and admin.secure_cookies(request):
        return _form(request, admin, error=COOKIE_NOT_RETURNED, status=403)
    if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
        return _form(request, admin, error=BAD_FORM, status=403)
    username = await form_text(request, "username")
    try:
        user = await admin.core.logins.authenticate(
            login=username, password=await form_text(request, "password")
        )
    except InvalidCredentialsError:
        return _form(request, admin, error=BAD_LOGIN, status=400, username=username)
    except ThrottledError as error:
        wait = f"Too many attempts: try again in {error.retry_after} seconds."
        return _form(request, admin, error=wait, status=429, username=username)
    if not user.is_staff:
        return _form(request, admin, error=NOT_STAFF, status=403, username=username)
    await admin.sessions.prune()  # expired sessions go at logins: no background task needed
    try:
        raw = await admin.sessions.replace(request.cookies.get(admin.session_cookie(request)), user)
    except InvalidCredentialsError:  # deactivated or given a new password meanwhile
        return _form(request, admin, error=BAD_LOGIN, status=400, username=username)
    response = RedirectResponse(f"{PREFIX}/users", 303)
    admin.set_session_cookie(request, response, raw)
    admin.clear_login_csrf(request, response)
    return response


@staff_page
async def logout(request: Request, admin: Admin, session: Session) -> Response:
    """End this session (POST with the CSRF token) and forget the cookie."""
    await admin.sessions.end(session)
    response = RedirectResponse(f"{PREFIX}/login", 303)
    admin.clear_session_cookie(request, response)
    return response


def _plain_http(request: Request) -> bool:
    """Whether the request came over plain HTTP: uvicorn sets the scheme, `https` for TLS or
    from a trusted proxy's X-Forwarded-Proto (its FORWARDED_ALLOW_IPS)."""
    return request.scope.get("scheme") == "http"


def _sentence(errors: dict[str, list[str]]) -> str:
    return " ".join(dict.fromkeys(m for found in errors.values() for m in found))


def _form(
    request: Request,
    admin: Admin,
    *,
    error: str | None = None,
    status: int = 200,
    username: str = "",
) -> Response:
    token = admin.login_csrf(request)
    response = admin.render(
        request, "login.html", status=status, error=error, username=username, login_csrf=token
    )
    admin.set_login_csrf(request, response, token)
    return response
