"""The /u/api/ token cookies and their CSRF protection (double submit).

Login and refresh set three cookies, each `Secure` (AUTHGATE_COOKIE_SECURE) and with
AUTHGATE_COOKIE_SAMESITE, named as http/cookie_names.py says (when Secure: the two path-scoped
token cookies `__Secure-`, the CSRF cookie at Path=/ `__Host-`):
- `access_token`: HttpOnly, Path = the dialect's mount (`/u/api/`), Max-Age = the refresh
  lifetime: the token inside expires sooner (the server checks `exp`), but a logout by cookie
  after that must still name the session, or its refresh token would outlive the logout;
- `refresh_token`: HttpOnly, Path = the refresh endpoint (`/u/api/refresh/`), so no other
  request carries it, Max-Age = the refresh lifetime;
- `csrf_token`: readable by scripts (not HttpOnly), Path `/`, Max-Age = the refresh lifetime;
  with AUTHGATE_COOKIE_DOMAIN it carries that Domain (and is `__Secure-`), so that an app on a
  sibling subdomain can read it (http/cookie_names.py says why it alone).

A state-changing request that a cookie authenticates (refresh/ or logout/ without a token in
the body or the Authorization header) must send `X-CSRF-Token` equal to the `csrf_token`
cookie: another site can make a browser send the cookies but can neither read the csrf cookie
nor set the header. The value is bound to the session: an HMAC (keyed by the secret key) of
the `sid` claim that login writes into both tokens and refresh carries on, so a value planted
by a sibling subdomain (cookie tossing) does not match the session's tokens. Only where no
valid token names the session (logout with an expired access cookie, which just clears the
cookies) does the plain double submit decide. Requests carrying their token in a header or
body need no CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from authgate.http.cookie_names import CookieNames, cookie_names
from authgate.http.secure_cookies import secure_cookies
from authgate.settings import Settings

CSRF_HEADER = "x-csrf-token"
REFRESH_PATH = "/refresh/"


def _mount(request: Request) -> str:
    """The path the dialect is mounted at for this request (`/u/api`)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


class Cookies:
    """Sets, clears and checks the dialect's cookies, with the configured attributes."""

    def __init__(
        self, settings: Settings, access_lifetime: timedelta, refresh_lifetime: timedelta
    ) -> None:
        self._csrf_key = b"authgate/u-api/csrf:" + settings.secret_key.get_secret_value().encode()
        self._settings = settings
        self._samesite = settings.cookie_samesite
        self._refresh_age = int(refresh_lifetime.total_seconds())
        self._csrf_domain = settings.cookie_domain

    def _names(self, connection: HTTPConnection) -> CookieNames:
        return cookie_names(secure_cookies(connection, self._settings), self._csrf_domain)

    @property
    def documented_names(self) -> CookieNames:
        """The names as the settings set them, for the OpenAPI document (a direct local
        request in dev gets the plain ones: http/secure_cookies.py)."""
        return cookie_names(self._settings.cookie_secure, self._csrf_domain)

    def access(self, connection: HTTPConnection) -> str | None:
        """The request's access token cookie, if it carries one."""
        return connection.cookies.get(self._names(connection).cookie_jwt_access)

    def refresh(self, request: Request) -> str | None:
        """The request's refresh token cookie, if it carries one."""
        return request.cookies.get(self._names(request).cookie_jwt_refresh)

    def _paths(self, request: Request) -> dict[str, str]:
        mount, names = _mount(request), self._names(request)
        return {
            names.cookie_jwt_access: mount + "/",
            names.cookie_jwt_refresh: mount + REFRESH_PATH,
            names.cookie_jwt_csrf: "/",
        }

    def set_tokens(
        self, request: Request, response: Response, access: str, refresh: str, session: str
    ) -> None:
        """Set both token cookies and the session's CSRF token."""
        paths, names = self._paths(request), self._names(request)
        secure = secure_cookies(request, self._settings)
        values = {
            names.cookie_jwt_access: (access, self._refresh_age, True),
            names.cookie_jwt_refresh: (refresh, self._refresh_age, True),
            names.cookie_jwt_csrf: (self.csrf_for(session), self._refresh_age, False),
        }
        for name, (value, age, httponly) in values.items():
            response.set_cookie(
                name,
                value,
                max_age=age,
                path=paths[name],
                domain=self._csrf_domain if name == names.cookie_jwt_csrf else None,
                secure=secure,
                httponly=httponly,
                samesite=self._samesite,
            )

    def clear(self, request: Request, response: Response) -> None:
        """Expire every cookie of the dialect (each at its own path)."""
        secure, csrf = secure_cookies(request, self._settings), self._names(request).cookie_jwt_csrf
        for name, path in self._paths(request).items():
            response.delete_cookie(
                name,
                path=path,
                domain=self._csrf_domain if name == csrf else None,
                secure=secure,
                httponly=name != csrf,
                samesite=self._samesite,
            )

    def csrf_for(self, session: str) -> str:
        """The CSRF token of a session (its tokens' `sid`)."""
        digest = hmac.new(self._csrf_key, session.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def csrf_ok(self, request: Request, session: str | None) -> bool:
        """Whether the request's X-CSRF-Token header is the session's token (and the cookie's),
        or, with no session known, equals the csrf_token cookie."""
        cookie = request.cookies.get(self._names(request).cookie_jwt_csrf, "").encode()
        header = request.headers.get(CSRF_HEADER, "").encode()
        if not cookie or not hmac.compare_digest(cookie, header):
            return False
        return session is None or hmac.compare_digest(header, self.csrf_for(session).encode())
