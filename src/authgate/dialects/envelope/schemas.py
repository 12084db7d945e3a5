"""Request and response bodies of the envelope dialect, for the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel


class LoginIn(BaseModel):
    """POST login/ (the login field follows AUTHGATE_LOGIN_FIELD; `username` by default)."""

    username: str
    password: str


class CheckTokenIn(BaseModel):
    """POST check_token/: whom the presented token should belong to."""

    username: str


class Result(BaseModel):
    """Every answer's `result`: its HTTP status again, and a message for people."""

    status: int
    message: str


class LoginData(BaseModel):
    """login/'s `data`."""

    token: str
    username: str
    role: str


class UsernameData(BaseModel):
    """check_token/'s `data`."""

    username: str


class LoginOut(BaseModel):
    """login/'s answer."""

    result: Result
    data: LoginData


class CheckTokenOut(BaseModel):
    """check_token/'s answer."""

    result: Result
    data: UsernameData


class EmptyOut(BaseModel):
    """An answer with empty `data` (logout/, and every error)."""

    result: Result
    data: dict[str, object]
