"""Guards: from an Authorization header to an Identity, or a typed refusal.

`Token <key>` and `Bearer <opaque>` are asked of authgate (`users/me/`) and remembered for a few
seconds (cache.py); `Bearer <JWT>` is verified here from authgate's JWKS or a shared HMAC key
(keys.py), or, in `remote` mode, asked of authgate's `jwt/verify/` like an opaque token.

A guard never lets a request through on doubt: InvalidToken means 401, AuthgateUnavailable
(AuthgateTimeout included) means 503. `Guard` is for asyncio services, `SyncGuard` for
threaded ones (Django); they share everything but the waiting.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .cache import IdentityCache
from .clients import AsyncAuthgateClient, AuthgateClient
from .credentials import Credentials, parse_authorization
from .errors import AuthgateUnavailable, InvalidToken
from .identity import Identity
from .keys import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHMS,
    JwksState,
    JwtPolicy,
    check_key_algorithm,
    decode,
    read_header,
    require_keys,
)
from .revocations import RevocationSubscriber, RevokedGenerations
from .wire import identity_from_claims

log = logging.getLogger(__name__)

JwtVerification = Literal["jwks", "hmac", "remote"]


@dataclass(frozen=True, slots=True)
class GuardOptions:
    """How a guard checks tokens.

    jwt_verification: `jwks` (authgate signs with RS256/ES256/EdDSA; keys from its JWKS),
      `hmac` (HS256/384/512 with `hmac_key`, authgate's AUTHGATE_JWT_SIGNING_KEY or secret
      key), or `remote` (ask authgate every `cache_seconds`: sees logouts at once, costs a call).
      At the defaults (`jwks`, no `algorithms`), HMAC-signed JWTs — authgate's own default —
      are asked of authgate as in `remote` mode, and the first one logs how to check them here.
    algorithms: accepted JWT algorithms; by default every one of the mode's family. Pin it to
      authgate's AUTHGATE_JWT_ALGORITHM (then others are refused, the first one logged).
    audience, issuer, leeway_seconds: as authgate's AUTHGATE_JWT_AUDIENCE/_ISSUER/_LEEWAY.
    cache_seconds, cache_size: how long and how many vouched-for tokens are remembered; the
      longest a revoked opaque token still passes here. 0 asks authgate on every request.
    jwks_max_age_seconds: refetch the JWKS this often (authgate says max-age=300).
    jwks_refetch_interval_seconds: the least time between two fetches, unknown kids included.
    redis_url: authgate's AUTHGATE_REDIS_URL: follow the revocations it pushes there
      (revocations.py), so a logout or password change is refused here at once, locally
      verified JWTs included.
    """

    jwt_verification: JwtVerification = "jwks"
    hmac_key: str | None = field(default=None, repr=False)
    algorithms: tuple[str, ...] | None = None
    audience: str | None = None
    issuer: str | None = None
    leeway_seconds: float = 0.0
    cache_seconds: float = 5.0
    cache_size: int = 10_000
    jwks_max_age_seconds: float = 300.0
    jwks_refetch_interval_seconds: float = 5.0
    redis_url: str | None = None

    def __post_init__(self) -> None:
        if self.jwt_verification == "hmac" and not self.hmac_key:
            raise ValueError("hmac verification needs hmac_key")
        if self.jwt_verification != "hmac" and self.hmac_key:
            raise ValueError("hmac_key is only for jwt_verification='hmac'")
        family = HMAC_ALGORITHMS if self.jwt_verification == "hmac" else ASYMMETRIC_ALGORITHMS
        wrong = set(self.algorithms or ()) - set(family)
        if wrong and self.jwt_verification != "remote":
            raise ValueError(f"{sorted(wrong)} cannot be verified in {self.jwt_verification} mode")

    def policy(self) -> JwtPolicy:
        """The JWT policy these options describe."""
        family = HMAC_ALGORITHMS if self.jwt_verification == "hmac" else ASYMMETRIC_ALGORITHMS
        return JwtPolicy(
            algorithms=self.algorithms or family,
            audience=self.audience,
            issuer=self.issuer,
            leeway_seconds=self.leeway_seconds,
        )


def _asking_authgate(alg: str) -> str:
    family = ", ".join(ASYMMETRIC_ALGORITHMS)
    return (
        f"authgate guard: a {alg} JWT arrived, but this guard verifies JWTs from authgate's"
        f" JWKS ({family}), which has no key for {alg}: authgate signs with a shared"
        " secret (its default). Asking authgate's /auth/jwt/verify/ about each such token"
        " instead. To verify them here, set GuardOptions(jwt_verification='hmac',"
        " hmac_key=<authgate's AUTHGATE_JWT_SIGNING_KEY, else its AUTHGATE_SECRET_KEY>);"
        " to refuse them, pin GuardOptions(algorithms=...)."
    )


def _refusing(alg: str, options: GuardOptions) -> str:
    accepted = ", ".join(options.policy().algorithms)
    return (
        f"authgate guard: refusing {alg} JWTs (401): this guard accepts {accepted}"
        f" (GuardOptions jwt_verification={options.jwt_verification!r}, algorithms). If"
        f" authgate signs with {alg} (AUTHGATE_JWT_ALGORITHM), set the guard's options to match."
    )


class _GuardState:
    """What both guards hold: options, the token cache, the JWKS."""

    def __init__(self, options: GuardOptions | None, clock: Callable[[], float]) -> None:
        self.options = options or GuardOptions()
        self.policy = self.options.policy()
        self.cache = IdentityCache(self.options.cache_seconds, self.options.cache_size, clock)
        self.jwks = JwksState(
            max_age=self.options.jwks_max_age_seconds,
            refetch_interval=self.options.jwks_refetch_interval_seconds,
            clock=clock,
        )
        self.revoked = RevokedGenerations()
        self._said: set[str] = set()
        self.subscriber: RevocationSubscriber | None = None
        if self.options.redis_url is not None:
            self.subscriber = RevocationSubscriber(self.options.redis_url, self._revoke)
            if not self.subscriber.start():
                log.warning("Redis did not answer: revocations are not followed yet")

    def _revoke(self, user_id: str, jwt_version: int | None) -> None:
        self.cache.evict_user(user_id)
        if jwt_version is not None:
            self.revoked.raise_to(user_id, jwt_version)

    def local_header(self, credentials: Credentials) -> tuple[str, str | None] | None:
        """(alg, kid) of a JWT this guard verifies itself; None for a token authgate is asked
        about (an opaque one, any in `remote` mode, and an HMAC-signed one reaching a guard
        left at its default JWKS mode: authgate's own default is HS256, and a guard with
        default options must take its tokens, saying once how to check them here)."""
        if credentials.kind != "jwt" or self.options.jwt_verification == "remote":
            return None
        alg, kid = read_header(credentials.token)
        if alg in self.policy.algorithms:
            return alg, kid
        defaults = self.options.jwt_verification == "jwks" and self.options.algorithms is None
        if defaults and alg in HMAC_ALGORITHMS:
            self._say_once(alg, _asking_authgate(alg))
            return None
        if alg in (*HMAC_ALGORITHMS, *ASYMMETRIC_ALGORITHMS):  # not a made-up name per line
            self._say_once(alg, _refusing(alg, self.options))
        raise InvalidToken("signature", f"algorithm {alg!r} is not accepted here")

    def _say_once(self, alg: str, line: str) -> None:
        """Log a configuration mismatch the first time a token shows it (not per request)."""
        if alg not in self._said:
            self._said.add(alg)
            log.warning("%s", line)

    def needs_refetch(self, kid: str | None) -> bool:
        """An unknown kid with keys held: a rotation, if the interval allows asking again."""
        return (
            self.jwks.keys is not None and self.jwks.find(kid) is None and self.jwks.may_refetch()
        )

    def verify(self, token: str, alg: str, kid: str | None) -> Identity:
        """Check `token` with the key the options name (the JWKS held, or the HMAC key)."""
        key: Any
        if self.options.jwt_verification == "hmac":
            key = self.options.hmac_key
        else:
            jwk = require_keys(self.jwks, kid)
            check_key_algorithm(jwk, alg)
            key = jwk.key
        identity = identity_from_claims(decode(token, key, alg, self.policy))
        version = identity.claims.get("ver", 0)
        if self.revoked.is_revoked(identity.user_id, version if isinstance(version, int) else 0):
            raise InvalidToken("revoked", "authgate revoked this user's earlier tokens")
        return identity

    def stop_following(self) -> None:
        """Stop following authgate's revocations."""
        if self.subscriber is not None:
            self.subscriber.stop()


class Guard(_GuardState):
    """The asyncio guard (ASGI middleware, Starlette/FastAPI dependency)."""

    def __init__(
        self,
        authgate: str | AsyncAuthgateClient,
        options: GuardOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`authgate` is its base URL or a client of one."""
        super().__init__(options, clock)
        self.client = AsyncAuthgateClient(authgate) if isinstance(authgate, str) else authgate
        self._lock = asyncio.Lock()

    async def authenticate(self, authorization: str | None) -> Identity:
        """The identity an Authorization header value proves (InvalidToken or
        AuthgateUnavailable otherwise)."""
        credentials = parse_authorization(authorization)
        header = self.local_header(credentials)
        if header is not None:
            alg, kid = header
            if self.options.jwt_verification == "jwks":
                await self._load_keys(kid)
            return self.verify(credentials.token, alg, kid)
        identity = self.cache.get(credentials.token)
        if identity is None:
            if credentials.kind == "jwt":
                identity = await self.client.verify_jwt(credentials.token)
            else:
                identity = await self.client.introspect(credentials.token)
            self.cache.put(credentials.token, identity)
        return identity

    async def _load_keys(self, kid: str | None) -> None:
        if self.jwks.due() or self.needs_refetch(kid):
            await self._fetch()

    async def _fetch(self) -> None:
        mark = self.jwks.attempts
        async with self._lock:
            if self.jwks.attempts != mark:
                return  # fetched (or tried) by another request while this one waited
            self.jwks.attempt()
            try:
                result: list[dict[str, Any]] | AuthgateUnavailable = await self.client.fetch_jwks()
            except AuthgateUnavailable as error:
                result = error
            self.jwks.settle(result)

    async def aclose(self) -> None:
        """Close the client's connections."""
        self.stop_following()
        await self.client.aclose()


class SyncGuard(_GuardState):
    """The blocking guard (Django/DRF, WSGI). Thread-safe."""

    def __init__(
        self,
        authgate: str | AuthgateClient,
        options: GuardOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """As Guard's."""
        super().__init__(options, clock)
        self.client = AuthgateClient(authgate) if isinstance(authgate, str) else authgate
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None) -> Identity:
        """As Guard.authenticate."""
        credentials = parse_authorization(authorization)
        header = self.local_header(credentials)
        if header is not None:
            alg, kid = header
            if self.options.jwt_verification == "jwks":
                self._load_keys(kid)
            return self.verify(credentials.token, alg, kid)
        identity = self.cache.get(credentials.token)
        if identity is None:
            if credentials.kind == "jwt":
                identity = self.client.verify_jwt(credentials.token)
            else:
                identity = self.client.introspect(credentials.token)
            self.cache.put(credentials.token, identity)
        return identity

    def _load_keys(self, kid: str | None) -> None:
        if self.jwks.due() or self.needs_refetch(kid):
            self._fetch()

    def _fetch(self) -> None:
        mark = self.jwks.attempts
        with self._lock:
            if self.jwks.attempts != mark:
                return
            self.jwks.attempt()
            try:
                result: list[dict[str, Any]] | AuthgateUnavailable = self.client.fetch_jwks()
            except AuthgateUnavailable as error:
                result = error
            self.jwks.settle(result)

    def close(self) -> None:
        """Close the client's connections."""
        self.stop_following()
        self.client.close()
