"""Whether an answer's cookies are `Secure`: AUTHGATE_COOKIE_SECURE, with one exception in dev.

A `Secure` cookie goes back over HTTPS only. Browsers count http://localhost as secure and
cope; other cookie jars (requests, httpx, curl) do not, so a script against a dev server on
http://127.0.0.1:8000 could never use a cookie flow. So in dev (AUTHGATE_ENV=dev) a direct
plain-HTTP request from this machine to a loopback name gets cookies without `Secure`, and so
without the `__Host-`/`__Secure-` prefixes (http/cookie_names.py), as Keycloak's
`sslRequired=external` does for local clients. "Direct": the peer is a loopback address, the
Host is `localhost`, `*.localhost` or a loopback address, the scheme is `http` (uvicorn sets
`https` from a trusted proxy's X-Forwarded-Proto) and no proxy header says that someone else
is behind the peer. Never in prod, and never with SameSite=None, which browsers refuse
without `Secure`. The request's cookies are read by the same names its answer sets.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.types import Scope

from authgate.settings import Settings

# A request with any of these came through a proxy: its client may be anywhere.
PROXY_HEADERS = (
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
)


def secure_cookies(request: HTTPConnection, settings: Settings) -> bool:
    """Whether the cookies of this request's answer are `Secure` (and prefixed)."""
    return secure_cookies_in(request.scope, settings)


def secure_cookies_in(scope: Scope, settings: Settings) -> bool:
    """secure_cookies of the request of this scope: a request object is made only for dev's
    exception, which reads the peer and the Host (the session scheme asks on the fast lane)."""
    if not settings.cookie_secure:
        return False
    if settings.env != "dev" or settings.cookie_samesite == "none":
        return True
    return not _direct_local_http(HTTPConnection(scope))


def dev_cookie_note(settings: Settings) -> str | None:
    """What a dev server says at startup about its cookies (None when none is Secure)."""
    if not settings.cookie_secure:
        return None
    fix = "serve HTTPS, or set AUTHGATE_COOKIE_SECURE=false for local testing."
    if settings.cookie_samesite == "none":  # no exception: browsers need Secure with None
        return (
            "Cookies are Secure (AUTHGATE_COOKIE_SECURE, with SameSite=none): clients that are "
            f"not browsers never send them back over plain HTTP; to use them over HTTP, {fix}"
        )
    return (
        "Cookies are Secure (AUTHGATE_COOKIE_SECURE), except that in dev direct plain-HTTP "
        "requests from this machine to localhost, 127.0.0.1 or [::1] get them without Secure "
        "and without the __Host-/__Secure- prefixes. Over plain HTTP from anywhere else, "
        f"clients never send the cookies back: {fix}"
    )


def _direct_local_http(request: HTTPConnection) -> bool:
    """Plain HTTP from a loopback peer to a loopback name, with no proxy in between."""
    if request.scope.get("scheme") != "http" or request.client is None:
        return False
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    return _loopback_address(request.client.host) and _loopback_name(
        request.headers.get("host", "")
    )


def _loopback_name(host: str) -> bool:
    """Whether a Host header (with or without its port) names this machine."""
    try:
        name = urlsplit(f"//{host}").hostname
    except ValueError:  # a malformed Host (an unclosed IPv6 bracket)
        return False
    if not name:
        return False
    return name == "localhost" or name.endswith(".localhost") or _loopback_address(name)


def _loopback_address(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket's view of 127.0.0.1
    return address.is_loopback
