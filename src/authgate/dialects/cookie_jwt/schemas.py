"""Request and response bodies of the /u/api/ dialect, for the OpenAPI document (the views
read bodies themselves). Names carry the dialect's prefix: the document keys schemas by name."""

from __future__ import annotations

from pydantic import BaseModel


class CookieJwtLoginIn(BaseModel):
    """POST login/: always by email, whatever AUTHGATE_LOGIN_FIELD says."""

    email: str
    password: str


class CookieJwtLoginOut(BaseModel):
    """login/: both tokens (also set as cookies) and the user's application role."""

    access_token: str
    refresh_token: str
    role: str


class CookieJwtRefreshIn(BaseModel):
    """POST refresh/: the token here, or as `Authorization: Bearer`, or the refresh cookie."""

    refresh_token: str | None = None


class CookieJwtRefreshOut(BaseModel):
    """refresh/: both tokens, rotated (also set as cookies)."""

    detail: str
    access_token: str
    refresh_token: str


class CookieJwtDetailOut(BaseModel):
    """An answer that is only a `detail` (logout/, and every error)."""

    detail: str


class CookieJwtMessageOut(BaseModel):
    """The test endpoints' answer."""

    message: str
