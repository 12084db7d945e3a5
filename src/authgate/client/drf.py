"""A Django REST framework authentication class over authgate, for Django services behind it.
Importable only where Django and DRF are installed (authgate itself never imports this module).

    # settings.py
    AUTHGATE = {
        "URL": "http://authgate:8000",
        "TIMEOUT": 2.0,                     # seconds; then 503
        "TOKEN_KEYWORD": "Token",           # how opaque tokens are shown to authgate
        "OPTIONS": {"jwt_verification": "jwks", "algorithms": ("RS256",)},  # GuardOptions
    }
    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["authgate_guard.drf.AuthgateAuthentication"],
    }

`request.user` is an `AuthgateUser` (not a Django model: the users live in authgate) and
`request.auth` the `Identity`; DRF's permission classes work on it (`IsAuthenticated`,
`IsAdminUser`, `IsAuthenticatedOrReadOnly`). A request without an Authorization header, or
with another scheme, is left to the next authentication class (DRF's convention); a token
authgate refuses is a 401 (`WWW-Authenticate: Bearer`), an unreachable or silent authgate a 503.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings  # type: ignore[import-not-found]
from rest_framework import exceptions  # type: ignore[import-not-found]
from rest_framework.authentication import BaseAuthentication  # type: ignore[import-not-found]

from .answers import CHALLENGE, INVALID, UNAVAILABLE
from .clients import DEFAULT_TIMEOUT_SECONDS, AuthgateClient
from .credentials import KEYWORDS, parse_authorization
from .errors import AuthgateUnavailable, InvalidToken
from .guard import GuardOptions, SyncGuard
from .identity import Identity
from .wire import StaffFlags, claimed_flags


class AuthgateServiceUnavailable(exceptions.APIException):  # type: ignore[misc]
    """503: authgate could not say whether the token is good (never let through)."""

    status_code = 503
    default_detail = UNAVAILABLE
    default_code = "authgate_unavailable"


def _primary_key(user_id: str) -> int | str:
    """authgate's ids are numbers (Django's AutoField); kept as text if one is not."""
    return int(user_id) if user_id.isascii() and user_id.isdigit() else user_id


class AuthgateUser:
    """The user behind a token, as much of Django's user interface as DRF and its permission
    classes use: `is_authenticated`, `pk`/`id` (an int when authgate's id is a number, as a
    Django user's), `username`, `email`, `is_staff` and `is_superuser`.

    The flags come from the token when it states them (custom claims); otherwise, for an opaque
    token, from the user's record at authgate (`GET /user/<id>/`), asked on first use only, so
    only views whose permissions read them pay the call; a JWT without them is no staff."""

    is_authenticated = True
    is_anonymous = False
    is_active = True

    def __init__(
        self, identity: Identity, ask_flags: Callable[[], StaffFlags] | None = None
    ) -> None:
        self.identity = identity
        self.pk = self.id = _primary_key(identity.user_id)
        self.username = identity.username or ""
        self.email = identity.email or ""
        self._flags = claimed_flags(identity.claims)
        self._ask_flags = ask_flags

    def _staff_flags(self) -> StaffFlags:
        if self._flags is None:
            asked = self._ask_flags() if self._ask_flags else None
            self._flags = asked or StaffFlags(is_staff=False, is_superuser=False)
        return self._flags

    @property
    def is_staff(self) -> bool:
        """Whether authgate's user is staff (DRF's IsAdminUser)."""
        return self._staff_flags().is_staff

    @property
    def is_superuser(self) -> bool:
        """Whether authgate's user is a superuser."""
        return self._staff_flags().is_superuser

    def get_username(self) -> str:
        """As Django's users."""
        return self.username

    def __str__(self) -> str:
        return self.username or f"user {self.pk}"


_guard: SyncGuard | None = None
_guard_lock = threading.Lock()


def guard() -> SyncGuard:
    """The process's guard, built from settings.AUTHGATE on first use."""
    global _guard  # one guard (cache, JWKS, connection pool) per process
    with _guard_lock:
        if _guard is None:
            config: dict[str, Any] = dict(settings.AUTHGATE)
            client = AuthgateClient(
                config["URL"],
                timeout=float(config.get("TIMEOUT", DEFAULT_TIMEOUT_SECONDS)),
                token_keyword=config.get("TOKEN_KEYWORD", "Token"),
            )
            _guard = SyncGuard(client, GuardOptions(**config.get("OPTIONS", {})))
        return _guard


def reset_guard() -> None:
    """Forget the process's guard (after settings change, in tests)."""
    global _guard
    with _guard_lock:
        if _guard is not None:
            _guard.close()
        _guard = None


def _ask_flags(token: str, user_id: str) -> StaffFlags:
    """The flags of an opaque token's holder, failures worded as authenticate's (raised from
    a permission check, DRF answers them as it answers authenticate's)."""
    try:
        return guard().client.staff_flags(token, user_id)
    except InvalidToken as error:
        raise exceptions.AuthenticationFailed(INVALID) from error
    except AuthgateUnavailable as error:
        raise AuthgateServiceUnavailable from error


class AuthgateAuthentication(BaseAuthentication):  # type: ignore[misc]
    """`Token <key>`, `Bearer <opaque>` and `Bearer <JWT>` checked by authgate (see module)."""

    def authenticate(self, request: Any) -> tuple[AuthgateUser, Identity] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header or header.split()[0].lower() not in KEYWORDS:
            return None
        try:
            identity = guard().authenticate(header)
        except InvalidToken as error:
            raise exceptions.AuthenticationFailed(INVALID) from error
        except AuthgateUnavailable as error:
            raise AuthgateServiceUnavailable from error
        ask = None
        if identity.kind == "opaque":
            token = parse_authorization(header).token
            ask = lambda: _ask_flags(token, identity.user_id)  # noqa: E731 bound per request
        return AuthgateUser(identity, ask), identity

    def authenticate_header(self, request: Any) -> str:
        """The 401 challenge (without one DRF would answer 403)."""
        return CHALLENGE
