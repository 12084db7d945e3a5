"""Verifying authgate's JWTs locally, with PyJWT: against the public keys of its JWKS (RS256,
ES256, EdDSA) or a shared HMAC key (HS256/384/512).

The token never chooses how it is checked: the algorithm must be one the service allows *and*
the one its key is for, the key is looked up by `kid` in the set fetched from authgate (a token
naming a key of its own — `jwk`, `jku`, `x5u`, `x5c` — is refused), and the claims must be
those of an access token (`token_type`, `exp`, `iat`, `user_id`; `aud` and `iss` when set).

Local verification cannot see a logout or a password change before the token expires (authgate
ends such tokens through a per-user version only it knows); services that must see them at once
use the guard's `remote` mode, which asks authgate's `jwt/verify/`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt as pyjwt

from .errors import AuthgateUnavailable, InvalidToken
from .wire import ACCESS

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
FOREIGN_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")


@dataclass(frozen=True, slots=True)
class JwtPolicy:
    """What a JWT must satisfy here, besides its signature."""

    algorithms: tuple[str, ...]
    audience: str | None = None
    issuer: str | None = None
    leeway_seconds: float = 0.0
    token_type: str = ACCESS


def read_header(token: str) -> tuple[str, str | None]:
    """(alg, kid) of a token, refused when the token names its own key. Whether the algorithm
    is accepted is the caller's question (the guard's, which says why when it is not)."""
    try:
        header = pyjwt.get_unverified_header(token)
    except pyjwt.PyJWTError as error:
        raise InvalidToken("malformed", f"unreadable JWT header: {error}") from error
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise InvalidToken("malformed", "the JWT header names no algorithm")
    if any(name in header for name in FOREIGN_KEY_HEADERS):
        raise InvalidToken("signature", "the token names a key of its own")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidToken("malformed", "kid is not a string")
    return alg, kid


def decode(token: str, key: Any, alg: str, policy: JwtPolicy) -> dict[str, Any]:
    """The verified claims of an access token (InvalidToken for anything less)."""
    try:
        claims: dict[str, Any] = pyjwt.decode(
            token,
            key=key,
            algorithms=[alg],
            audience=policy.audience,
            issuer=policy.issuer,
            leeway=policy.leeway_seconds,
            options={"require": ["exp", "iat"]},
        )
    except pyjwt.ExpiredSignatureError as error:
        raise InvalidToken("expired", str(error)) from error
    except pyjwt.InvalidSignatureError as error:
        raise InvalidToken("signature", str(error)) from error
    except pyjwt.PyJWTError as error:
        raise InvalidToken("claims", str(error)) from error
    if claims.get("token_type") != policy.token_type:
        raise InvalidToken("claims", f"not an {policy.token_type} token")
    return claims


class KeySet:
    """Parsed JWKs by `kid`. Keys this PyJWT cannot use, or not meant for signatures, are
    skipped (and logged): one odd key must not take the others down."""

    def __init__(self, jwks: list[dict[str, Any]]) -> None:
        self.keys: dict[str | None, pyjwt.PyJWK] = {}
        for jwk in jwks:
            if jwk.get("use", "sig") != "sig":
                continue
            try:
                parsed = pyjwt.PyJWK.from_dict(jwk)
            except pyjwt.PyJWTError as error:
                log.warning("skipping an unusable JWK %r: %s", jwk.get("kid"), error)
                continue
            self.keys[parsed.key_id] = parsed

    def find(self, kid: str | None) -> pyjwt.PyJWK | None:
        """The key named `kid`; a token without one uses the only key, if there is one (as
        authgate checks such a token with its current key)."""
        if kid is None:
            return next(iter(self.keys.values())) if len(self.keys) == 1 else None
        return self.keys.get(kid)


class JwksState:
    """The JWKS a guard holds and when it may fetch it again: at most every `max_age` seconds
    in the ordinary course (authgate serves it with max-age=300), and on a token whose `kid`
    it does not know — a rotation — but then at most every `refetch_interval` seconds, so that
    tokens with made-up kids cannot make the service hammer authgate."""

    def __init__(
        self,
        *,
        max_age: float,
        refetch_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self._clock = clock
        self.keys: KeySet | None = None
        self.fetched_at = float("-inf")
        self.attempted_at = float("-inf")
        self.attempts = 0
        self.fetches = 0
        """Successful fetches so far (for tests and metrics)."""
        self.failed = False
        """Whether the last fetch failed (then an unknown kid is authgate's to judge: 503)."""

    def due(self) -> bool:
        """Whether the set should be fetched before use: never fetched, or older than max_age
        (and the last attempt is not too recent, so a down authgate is not asked per request)."""
        now = self._clock()
        stale = self.keys is None or now - self.fetched_at >= self.max_age
        return stale and self._may_retry(now)

    def may_refetch(self) -> bool:
        """Whether an unknown kid may trigger a fetch now."""
        return self._may_retry(self._clock())

    def _may_retry(self, now: float) -> bool:
        return now - self.attempted_at >= self.refetch_interval

    def attempt(self) -> None:
        """Note that a fetch starts (`attempts` tells a waiter whether another one ran)."""
        self.attempted_at = self._clock()
        self.attempts += 1

    def settle(self, jwks: list[dict[str, Any]] | AuthgateUnavailable) -> None:
        """A fetched set replaces the one held; a failed fetch keeps it (logged), as keys only
        change by rotation and the held ones still verify the tokens they signed."""
        if isinstance(jwks, AuthgateUnavailable):
            self.failed = True
            log.warning("authgate's JWKS could not be fetched: %s", jwks)
            return
        self.keys = KeySet(jwks)
        self.fetched_at = self._clock()
        self.fetches += 1
        self.failed = False

    def find(self, kid: str | None) -> pyjwt.PyJWK | None:
        """The held key named `kid`, if any."""
        return self.keys.find(kid) if self.keys is not None else None


def check_key_algorithm(key: pyjwt.PyJWK, alg: str) -> None:
    """A JWK is for one algorithm: a token signed with it must say that one."""
    if key.algorithm_name != alg:
        raise InvalidToken("signature", f"the key {key.key_id!r} is not for {alg}")


def require_keys(state: JwksState, kid: str | None) -> pyjwt.PyJWK:
    """The key for `kid` after every fetch allowed has been made."""
    key = state.find(kid)
    if key is not None:
        return key
    if state.keys is None or state.failed:
        raise AuthgateUnavailable("authgate's JWKS could not be fetched")
    raise InvalidToken("unknown_key", f"no key {kid!r} in authgate's JWKS")
