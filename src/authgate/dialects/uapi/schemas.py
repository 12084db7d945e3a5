"""Request and response bodies of the /u/api/ dialect, for the OpenAPI document (the views
read bodies themselves). Names carry the dialect's prefix: the document keys schemas by name."""

from __future__ import annotations

from pydantic import BaseModel


class UapiLoginIn(BaseModel):
    """POST login/: always by email, whatever AUTHGATE_LOGIN_FIELD says."""

    email: str
    password: str


class UapiLoginOut(BaseModel):
    """login/: both tokens (also set as cookies) and the user's application role."""

    access_token: str
    refresh_token: str
    role: str


class UapiRefreshIn(BaseModel):
    """POST refresh/: the token here, or as `Authorization: Bearer`, or the refresh cookie."""

    refresh_token: str | None = None


class UapiRefreshOut(BaseModel):
    """refresh/: both tokens, rotated (also set as cookies)."""

    detail: str
    access_token: str
    refresh_token: str


class UapiDetailOut(BaseModel):
    """An answer that is only a `detail` (logout/, and every error)."""

    detail: str


class UapiMessageOut(BaseModel):
    """The test endpoints' answer."""

    message: str
