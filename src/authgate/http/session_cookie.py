"""The browser session's cookies, shared by the admin UI and the DRF dialects' `session`
scheme: one session, one cookie name, wherever the browser logged in."""

from __future__ import annotations

from http.cookies import _unquote

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import Scope

from authgate.http.cookie_names import cookie_names

# Django's header: a script reads the CSRF cookie and echoes it in this header.
CSRF_HEADER = "x-csrftoken"
# The session cookie's name by `secure` (False, True): looked up on every session request.
_NAMES = (cookie_names(False).session, cookie_names(True).session)


def session_cookie_name(secure: bool) -> str:
    """`__Host-authgate_session` where the cookie is Secure (http/cookie_names.py); the plain
    name over local HTTP, where browsers refuse the prefix."""
    return _NAMES[secure]


def session_value(connection: HTTPConnection, secure: bool) -> str | None:
    """The session cookie's value, if the request carries one."""
    return session_value_in(connection.scope, secure)


def session_value_in(scope: Scope, secure: bool) -> str | None:
    """The session cookie's value in the request's scope, read as Starlette's
    HTTPConnection.cookies reads cookies (every Cookie header, a later one winning), without a
    request object: the session scheme reads it on the fast lane, where one costs a visible
    share of the answer."""
    name = _NAMES[secure]
    found = None
    for header, value in scope["headers"]:
        if header != b"cookie":
            continue
        text = value.decode("latin-1")
        # A header that does not name the cookie cannot hold it, and is not cut up (a client
        # may send each cookie in a header of its own, as HTTP/2 allows).
        if name not in text:
            continue
        # Starlette's cookie_parser, for the one name: pairs split at ";", name and value at
        # the first "=", both stripped, the value unquoted; its dict keeps a header's last
        # pair, and a later header's pair, even empty, replaces an earlier one's.
        for pair in reversed(text.split(";")):
            key, equals, cookie = pair.partition("=")
            if equals and key.strip() == name:
                cookie = cookie.strip()
                found = _unquote(cookie) if cookie.startswith('"') else cookie
                break
    return found or None


def set_session_cookie(response: Response, raw: str, *, secure: bool) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Lax (no cross-site POST
    carries it), Secure by setting, a browser-session cookie that the server also expires."""
    response.set_cookie(
        session_cookie_name(secure), raw, path="/", httponly=True, secure=secure, samesite="lax"
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    """Forget the session cookie in the browser."""
    response.delete_cookie(
        session_cookie_name(secure), path="/", httponly=True, secure=secure, samesite="lax"
    )


def set_csrf_cookie(
    response: Response, csrf: str, *, secure: bool, domain: str | None = None
) -> None:
    """The session's CSRF token where a script can read it (not HttpOnly) to send it back as
    `X-CSRFToken`: `__Host-csrftoken` when Secure, else Django's `csrftoken` (the server reads
    only the header); with a `domain` (AUTHGATE_COOKIE_DOMAIN, as Django's CSRF_COOKIE_DOMAIN)
    for apps on sibling subdomains, `__Secure-csrftoken`. It is an HMAC of the session, so a
    value planted by a sibling site is worth nothing without that session (core/sessions.py)."""
    response.set_cookie(
        cookie_names(secure, domain).session_csrf,
        csrf,
        path="/",
        domain=domain,
        secure=secure,
        samesite="lax",
    )


def clear_csrf_cookie(response: Response, *, secure: bool, domain: str | None = None) -> None:
    """Forget the CSRF cookie."""
    response.delete_cookie(
        cookie_names(secure, domain).session_csrf,
        path="/",
        domain=domain,
        secure=secure,
        samesite="lax",
    )
