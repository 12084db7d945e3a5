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
        "DEFAULT_AUTHENTICATION_CLASSES": ["authgate.client.drf.AuthgateAuthentication"],
    }

`request.user` is an `AuthgateUser` (not a Django model: the users live in authgate) and
`request.auth` the `Identity`. A request without an Authorization header, or with another
scheme, is left to the next authentication class (DRF's convention); a token authgate refuses
is a 401 (`WWW-Authenticate: Bearer`), an unreachable or silent authgate a 503.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings  # type: ignore[import-not-found]
from rest_framework import exceptions  # type: ignore[import-not-found]
from rest_framework.authentication import BaseAuthentication  # type: ignore[import-not-found]

from .answers import CHALLENGE, INVALID, UNAVAILABLE
from .clients import DEFAULT_TIMEOUT_SECONDS, AuthgateClient
from .credentials import KEYWORDS
from .errors import AuthgateUnavailable, InvalidToken
from .guard import GuardOptions, SyncGuard
from .identity import Identity


class AuthgateServiceUnavailable(exceptions.APIException):  # type: ignore[misc]
    """503: authgate could not say whether the token is good (never let through)."""

    status_code = 503
    default_detail = UNAVAILABLE
    default_code = "authgate_unavailable"


class AuthgateUser:
    """The user behind a token, as much of Django's user interface as DRF and permissions
    need (`is_authenticated`, `pk`, `username`); staff flags are not known here."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.pk = self.id = identity.user_id
        self.username = identity.username or ""
        self.email = identity.email or ""

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
        return AuthgateUser(identity), identity

    def authenticate_header(self, request: Any) -> str:
        """The 401 challenge (without one DRF would answer 403)."""
        return CHALLENGE
