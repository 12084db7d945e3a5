"""Every cookie's name, in one place, with the prefix its attributes allow.

A cookie that is `Secure`, host-only (no `Domain`) and at `Path=/` is named `__Host-<name>`:
browsers then refuse it from anywhere else, so a sibling subdomain (or a network attacker on
plain HTTP) can neither plant nor overwrite it. One scoped to a narrower path, or given a
`Domain`, cannot be `__Host-` and is `__Secure-<name>` (a plain-HTTP attacker cannot set it).

With AUTHGATE_COOKIE_DOMAIN the two CSRF cookies that scripts read (`csrf_token`, `csrftoken`)
carry that Domain, so that an app on a sibling subdomain can read and echo them: they lose
`__Host-`, which costs nothing, since each is an HMAC of its session (a value planted by a
sibling matches no session of the victim). The token and session cookies stay host-only: a
sibling app's `fetch(..., {credentials: "include"})` is same-site, so the browser sends them to
the API's host anyway, and a Domain would send them to every other subdomain's server too. With
AUTHGATE_COOKIE_SECURE off (local HTTP), no cookie is `Secure` and browsers would drop a
prefixed one: the plain names are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class CookieNames:
    """The names of every cookie authgate sets."""

    session: str
    """The browser session (admin login, Djoser's session-on-login); Path=/."""
    session_csrf: str
    """The session's CSRF token for scripts to echo as `X-CSRFToken` (Django's `csrftoken`)."""
    admin_login_csrf: str
    """The admin login form's double-submit token."""
    cookie_jwt_access: str
    """/u/api/'s access token, scoped to the dialect's path."""
    cookie_jwt_refresh: str
    """/u/api/'s refresh token, scoped to its refresh endpoint."""
    cookie_jwt_csrf: str
    """/u/api/'s CSRF token for scripts to echo as `X-CSRF-Token`; Path=/."""


def host_only(name: str, secure: bool) -> str:
    """The name of a host-only cookie at Path=/."""
    return f"__Host-{name}" if secure else name


def path_scoped(name: str, secure: bool) -> str:
    """The name of a cookie at a narrower path or with a Domain (which `__Host-` forbids)."""
    return f"__Secure-{name}" if secure else name


@cache  # a few settings' combinations, asked on every cookie read
def cookie_names(secure: bool, csrf_domain: str | None = None) -> CookieNames:
    """The names for cookies that are `Secure` (AUTHGATE_COOKIE_SECURE) or not, the CSRF
    cookies given `csrf_domain` (AUTHGATE_COOKIE_DOMAIN) or host-only."""
    csrf = path_scoped if csrf_domain else host_only
    return CookieNames(
        session=host_only("authgate_session", secure),
        session_csrf=csrf("csrftoken", secure),
        admin_login_csrf=host_only("authgate_admin_login", secure),
        cookie_jwt_access=path_scoped("access_token", secure),
        cookie_jwt_refresh=path_scoped("refresh_token", secure),
        cookie_jwt_csrf=csrf("csrf_token", secure),
    )
