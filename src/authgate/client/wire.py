"""What the clients send to authgate and how they read its answers, written once for the sync
and the async client (which only move the bytes).

The endpoints (docs/, ../shared/CONTRACT.md):
- `POST /api/v1/check_token/ {"username"}` (envelope dialect, §3): does the token belong to
  this user? 200 (`data.username`, the stored spelling), 401 no/invalid token, 403 someone
  else's. Branch on the status, never on `result.message` (it is translated).
- `GET /auth/users/me/` (Djoser dialect, §1): whose is this opaque token? 200
  `{"id", "username", "email"}`, 401.
- `POST /auth/jwt/verify/ {"token"}` (SimpleJWT dialect, §2): is this JWT valid *now* (signature,
  expiry, and the user's token version: a password change or logout ends it)? 200 `{}`, 401.
- `GET /user/<id>/` (directory dialect, §5): the user's own record, whose `is_staff` and
  `is_superuser` neither `users/me/` nor a JWT carries. Takes opaque tokens.
- `GET /.well-known/jwks.json`: the public keys of an asymmetric configuration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import jwt as pyjwt

from .errors import (
    AuthgateTimeout,
    AuthgateUnavailable,
    InvalidToken,
    TokenUserMismatch,
)
from .identity import Identity

CHECK_TOKEN_PATH = "/api/v1/check_token/"
ME_PATH = "/auth/users/me/"
JWT_VERIFY_PATH = "/auth/jwt/verify/"
USER_RECORD_PATH = "/user/{}/"
JWKS_PATH = "/.well-known/jwks.json"
ACCESS = "access"


@dataclass(frozen=True, slots=True)
class Call:
    """One request to authgate, relative to its base URL."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Mapping[str, Any] | None = None


def transport_error(error: httpx.HTTPError) -> AuthgateUnavailable:
    """The typed error for a request that got no answer."""
    if isinstance(error, httpx.TimeoutException):
        return AuthgateTimeout(f"authgate did not answer in time ({type(error).__name__})")
    return AuthgateUnavailable(f"authgate could not be reached: {type(error).__name__}: {error}")


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise AuthgateUnavailable(
            f"authgate answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
        ) from error


def _unexpected(response: httpx.Response) -> AuthgateUnavailable:
    return AuthgateUnavailable(
        f"unexpected answer {response.status_code} from {response.request.url.path}",
        status=response.status_code,
    )


def _rejected(response: httpx.Response) -> InvalidToken:
    return InvalidToken("rejected", f"authgate answered {response.status_code}")


# check_token


def check_token_call(token: str, username: str, keyword: str) -> Call:
    """POST check_token/ for `token` and the user it should belong to."""
    if not username:
        raise ValueError("check_token needs the username the token should belong to")
    return Call(
        "POST",
        CHECK_TOKEN_PATH,
        headers={"Authorization": f"{keyword} {token}"},
        json={"username": username},
    )


def read_check_token(response: httpx.Response, username: str) -> str:
    """The stored spelling of the token's user, or the typed failure."""
    if response.status_code == 401:
        raise _rejected(response)
    if response.status_code == 403:
        raise TokenUserMismatch(username)
    if response.status_code != 200:
        raise _unexpected(response)
    body = _json(response)
    data = body.get("data") if isinstance(body, dict) else None
    stored = data.get("username") if isinstance(data, dict) else None
    if not isinstance(stored, str):
        raise AuthgateUnavailable("check_token answered 200 without data.username", status=200)
    return stored


# introspection


def introspect_call(token: str, keyword: str) -> Call:
    """GET users/me/ with an opaque token."""
    return Call("GET", ME_PATH, headers={"Authorization": f"{keyword} {token}"})


def read_introspection(response: httpx.Response) -> Identity:
    """The identity behind an opaque token, or the typed failure."""
    if response.status_code in (401, 403):
        raise _rejected(response)
    if response.status_code != 200:
        raise _unexpected(response)
    record = _json(response)
    if not isinstance(record, dict) or "id" not in record:
        raise AuthgateUnavailable("users/me/ answered 200 without an id", status=200)
    username, email = record.get("username"), record.get("email")
    return Identity(
        user_id=str(record["id"]),
        kind="opaque",
        username=username if isinstance(username, str) else None,
        email=email if isinstance(email, str) and email else None,
        claims=record,
    )


def verify_jwt_call(token: str) -> Call:
    """POST jwt/verify/: authgate checks the JWT, the user's token version included."""
    return Call("POST", JWT_VERIFY_PATH, json={"token": token})


def read_jwt_verification(response: httpx.Response, token: str) -> Identity:
    """The identity behind a JWT authgate has just vouched for. Its claims are read without
    checking the signature again: authgate, which holds the key, checked it."""
    if response.status_code in (400, 401):
        raise _rejected(response)
    if response.status_code != 200:
        raise _unexpected(response)
    try:
        claims = pyjwt.decode(token, options={"verify_signature": False})
    except pyjwt.PyJWTError as error:  # authgate accepted it, so this is not our token format
        raise InvalidToken("claims", str(error)) from error
    if claims.get("token_type") != ACCESS:  # verify/ vouches for refresh tokens too
        raise InvalidToken("claims", "not an access token")
    return identity_from_claims(claims)


def identity_from_claims(claims: Mapping[str, Any]) -> Identity:
    """The identity named by verified access-token claims (SimpleJWT's `user_id`)."""
    user_id = claims.get("user_id")
    if user_id is None or isinstance(user_id, bool) or not isinstance(user_id, str | int):
        raise InvalidToken("claims", "the token names no user_id")
    username = claims.get("username")
    return Identity(
        user_id=str(user_id),
        kind="jwt",
        username=username if isinstance(username, str) else None,
        claims=dict(claims),
    )


# staff flags


@dataclass(frozen=True, slots=True)
class StaffFlags:
    """A user's Django-style flags, as DRF's permission classes read them."""

    is_staff: bool
    is_superuser: bool


def claimed_flags(claims: Mapping[str, Any]) -> StaffFlags | None:
    """The flags an answer or token states itself (a deployment's custom claims), if any."""
    staff, superuser = claims.get("is_staff"), claims.get("is_superuser")
    if not isinstance(staff, bool):
        return None
    return StaffFlags(is_staff=staff, is_superuser=superuser is True)


def user_record_call(token: str, user_id: str, keyword: str) -> Call:
    """GET the token holder's own record."""
    path = USER_RECORD_PATH.format(quote(user_id, safe=""))
    return Call("GET", path, headers={"Authorization": f"{keyword} {token}"})


def read_staff_flags(response: httpx.Response) -> StaffFlags:
    """The flags of a user's record, or the typed failure (the token died meanwhile: 401)."""
    if response.status_code in (401, 403, 404):
        raise _rejected(response)
    if response.status_code != 200:
        raise _unexpected(response)
    record = _json(response)
    flags = claimed_flags(record) if isinstance(record, dict) else None
    if flags is None:
        raise AuthgateUnavailable("the user's record has no is_staff flag", status=200)
    return flags


# JWKS


def jwks_call() -> Call:
    """GET the JWK set."""
    return Call("GET", JWKS_PATH)


def read_jwks(response: httpx.Response) -> list[dict[str, Any]]:
    """The keys of a JWK set answer (their parsing is keys.py's)."""
    if response.status_code != 200:
        raise _unexpected(response)
    body = _json(response)
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise AuthgateUnavailable("the JWKS answer has no list of keys", status=200)
    return keys
