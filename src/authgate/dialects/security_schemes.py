"""How the OpenAPI document names and describes each way of proving who a request is.

The objects that authenticate carry these (dialects/schemes.py for the DRF-speaking dialects,
the views of the dialects that authenticate in their handlers), so the document names what the
endpoints really take. Tokens of different dialects get different names where one dialect
refuses the other's: a /u/api/ access token is no SimpleJWT access token (audience).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """One entry of the document's `components.securitySchemes`."""

    name: str
    definition: Mapping[str, object]


def _listed(keywords: Sequence[str]) -> str:
    return " or ".join(f"`Authorization: {keyword} <credential>`" for keyword in keywords)


def opaque_token(keywords: Sequence[str]) -> SecurityScheme:
    """An opaque token of `token/login/` or `/api/v1/login/` (AUTHGATE_TOKEN_KEYWORDS): the
    whole header's text, keyword included. `Bearer` is not always a keyword, and where a
    dialect tries `jwt` first a Bearer credential is taken for a JWT (as in DRF), so the
    first keyword (`Token` by default) is the one that works everywhere."""
    description = (
        f"An opaque token (`/auth/token/login/`), as {_listed(keywords)}; where `jwt` comes "
        f"first in AUTHGATE_AUTHENTICATION, `{keywords[0]}` only"
    )
    return SecurityScheme(
        "token",
        {"type": "apiKey", "in": "header", "name": "Authorization", "description": description},
    )


def simplejwt_access(keywords: Sequence[str]) -> SecurityScheme:
    """A SimpleJWT access token (AUTHGATE_JWT_AUTH_HEADER_TYPES): HTTP bearer where `Bearer`
    is a keyword (what clients send by default), else the whole header's text."""
    description = f"An access token of `/auth/jwt/create/`, as {_listed(keywords)}"
    if "Bearer" in keywords:  # case-sensitive, as SimpleJWT
        return SecurityScheme(
            "jwt",
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": description},
        )
    return SecurityScheme(
        "jwt",
        {"type": "apiKey", "in": "header", "name": "Authorization", "description": description},
    )


def session_cookie(cookie: str, csrf_header: str) -> SecurityScheme:
    """The browser session (the admin's, or Djoser's session-on-login)."""
    description = (
        "The browser session; a request other than GET, HEAD or OPTIONS also sends the "
        f"session's CSRF token as `{csrf_header}`"
    )
    return SecurityScheme(
        "session", {"type": "apiKey", "in": "cookie", "name": cookie, "description": description}
    )


COOKIE_JWT_ACCESS = SecurityScheme(
    "cookie_jwt_bearer",
    {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token of `/u/api/login/` or `/u/api/refresh/` "
        "(`/auth/jwt/` tokens are refused here, and these there)",
    },
)


def cookie_jwt_access_cookie(cookie: str, csrf_cookie: str, csrf_header: str) -> SecurityScheme:
    """/u/api/'s access token cookie, set by its login and refresh."""
    description = (
        "The access token cookie `/u/api/login/` sets; a POST it authenticates also sends "
        f"the `{csrf_cookie}` cookie's value as `{csrf_header}`"
    )
    return SecurityScheme(
        "cookie_jwt_cookie",
        {"type": "apiKey", "in": "cookie", "name": cookie, "description": description},
    )
