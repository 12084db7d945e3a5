"""JSON Web Tokens as SimpleJWT 5.5 writes them, signed and checked by PyJWT only.

Claims, in SimpleJWT's order: `token_type` ("access"/"refresh"), `exp`, `iat`, `jti` (32 hex
digits), `user_id` (the id as a string, as SimpleJWT 5.5.1 writes it), then `ver`, and `aud` /
`iss` when configured. A stock SimpleJWT service with the same key and algorithm accepts our
access tokens; it ignores `ver`.

`ver` is the fix for CVE-2024-22513 (SimpleJWT kept honouring tokens of deactivated users and,
without CHECK_REVOKE_TOKEN, of users whose password changed): each user has a JWT generation in
the store (0 until first bumped) which `revoke_all` bumps on a password change and on
deactivation (core/credentials.py) and at a /u/api/ logout. Every use of a token
(authentication, refresh, verify) reads the user and their generation in one query (or from a
cache the revocation feed keeps honest, core/jwt_cache.py) and refuses a token of another
generation, of an inactive user or of a user who is gone. A counter, not a digest of the
password hash (SimpleJWT's `hash_password` claim), so no claim is derived from a secret. A
token without `ver` (issued by SimpleJWT itself) is of generation 0.

Verification never depends on which settings are present: the algorithm is pinned (one of a
fixed allow-list, given to PyJWT as the only one accepted; for an Ed25519 key its two names,
`EdDSA` and `Ed25519`, core/jwt_algorithms.accepted_algorithms), `alg: none` and every other
algorithm fail, a token with a `crit` header fails, and keys come from configuration only:
a token naming a key source (`jku`, `x5u`, `jwk`, `x5c`) is refused. With an HMAC algorithm
`kid` is not looked at; with an asymmetric one (core/jwt_keys.py) tokens are signed with the
current key and carry its `kid`, and a token is checked with the configured key of its `kid`
(current, next or retired; an unknown `kid` fails; no `kid` means the current key). An HMAC token
never meets a public key: the algorithm family is fixed by configuration.

Every login's tokens carry a `sid` (the login's id), which refreshes keep: a login's tokens are
one family. With rotation and blacklisting, a refresh records the used token's `jti` (with the
time) and answers a successor whose `jti` is derived from it (`successor_jti`) and whose `iat`
is that time, so the successor can be written again, identical, from the used token alone.
A used token presented again is then one of two things:
- the immediate predecessor of the family's live refresh token (its successor is unused),
  within `reuse_interval` of its use: two tabs that refreshed at once. The answer is that same
  successor (and a new access token); nothing ends, and the family stays one chain with one
  live refresh token, so a later reuse is still seen;
- anything else (later, or an older token): a copy is in other hands. The login ends (its `sid`
  is recorded as ended, and every token carrying it is refused from then on: JwtReusedError
  for the reused token, `jwt_session_ended` for the family's others); the user's other logins
  live on. A token without `sid` (SimpleJWT's own) ends every JWT of its user, as it is the
  only family that can be told.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from authgate.core import audit
from authgate.core.clock import Clock
from authgate.core.errors import (
    InvalidCredentialsError,
    JwtBlacklistedError,
    JwtError,
    JwtExpiredError,
    JwtReusedError,
    JwtSessionEndedError,
    JwtUserError,
    NotFoundError,
    PermissionDeniedError,
)
from authgate.core.events import (
    BLACKLISTED,
    EXPIRED,
    INACTIVE,
    INVALID,
    NO_EVENTS,
    REVOKED,
    VALID,
    Events,
)
from authgate.core.jwt_algorithms import ASYMMETRIC_ALGORITHMS, accepted_algorithms
from authgate.core.jwt_cache import Subject, SubjectCache, VerifiedTokens
from authgate.core.models import Principal, User

if TYPE_CHECKING:
    from authgate.core.audit import Audit
    from authgate.core.jwt_keys import KeyRing
    from authgate.core.revocations import Revocations
    from authgate.store.protocol import Store

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ALGORITHMS = HMAC_ALGORITHMS | ASYMMETRIC_ALGORITHMS
# Headers that would let a token choose the key that checks it.
KEY_SOURCE_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
ACCESS = "access"
REFRESH = "refresh"
VERSION_CLAIM = "ver"
# The claim naming a login (a token family): login writes it into both tokens, refreshes keep it.
SESSION_CLAIM = "sid"
_SUCCESSOR_CONTEXT = b"authgate refresh successor\x00"
# An ended login is remembered this much longer than its newest token could live: a refresh
# that read the login as live just before it ended may still issue one token a moment later.
ENDED_LOGIN_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class JwtConfig:
    """What jwt.py needs of the settings. `key` is the HMAC key (HS*); `keys` the key ring of
    an asymmetric algorithm (RS256/ES256/EdDSA), which needs one and ignores `key`."""

    algorithm: str
    key: str
    access_lifetime: timedelta
    refresh_lifetime: timedelta
    rotate_refresh_tokens: bool
    blacklist_after_rotation: bool
    audience: str | None = None
    # How long after its use a refresh token may come back as a race (module docstring).
    reuse_interval: timedelta = timedelta(seconds=10)
    issuer: str | None = None
    leeway: timedelta = timedelta(0)
    keys: KeyRing | None = None

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unsupported JWT algorithm {self.algorithm!r}")
        if self.algorithm in HMAC_ALGORITHMS:
            if not self.key:
                raise ValueError("the JWT signing key is empty")
            if self.keys is not None:
                raise ValueError(f"JWT algorithm {self.algorithm} takes no key files")
        elif self.keys is None or self.keys.algorithm != self.algorithm:
            raise ValueError(f"JWT algorithm {self.algorithm} needs a private key file")


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What jwt/refresh/ answers: a new access token, and a new refresh token on rotation;
    with the user they speak for and the new access token's claims (as written, before `aud`
    and `iss`), so that nobody decodes the new token again to learn them."""

    access: str
    refresh: str | None
    user: User
    claims: Mapping[str, object]


class Jwts:
    """Issue, refresh, verify and authenticate SimpleJWT-shaped tokens."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: JwtConfig,
        *,
        subjects: SubjectCache | None = None,
        revocations: Revocations | None = None,
        audit: Audit | None = None,
        verified_cache_size: int = 0,
        events: Events = NO_EVENTS,
    ) -> None:
        self._store = store
        self._events = events
        self._clock = clock
        self._config = config
        # Not `subjects or ...`: an empty cache is falsy (it has a length).
        self._subjects = (
            subjects if subjects is not None else SubjectCache(max_entries=0, ttl_seconds=0)
        )
        self._revocations = revocations
        self._audit = audit
        self._verified_cache_size = verified_cache_size
        self._verified = VerifiedTokens(
            max_entries=verified_cache_size, leeway_seconds=config.leeway.total_seconds()
        )
        # User id -> the Principal authenticate last answered for that user (see there).
        self._principals: dict[int, Principal] = {}

    def with_config(self, config: JwtConfig) -> Jwts:
        """Tokens of another configuration (a dialect's own audience) over the same users:
        the same subject cache and revocations, a verified-token cache of their own."""
        return Jwts(
            self._store,
            self._clock,
            config,
            subjects=self._subjects,
            revocations=self._revocations,
            audit=self._audit,
            verified_cache_size=self._verified_cache_size,
            events=self._events,
        )

    @property
    def config(self) -> JwtConfig:
        """The configuration."""
        return self._config

    # Issuing

    async def issue_pair(
        self, user: User, extra_claims: Mapping[str, object] | None = None
    ) -> tuple[str, str]:
        """(refresh, access) for `user` as just authenticated, both carrying `extra_claims`
        (which refreshes carry on), and a new login id (`sid`) unless `extra_claims` has one.

        The user and their generation are read again first: a password change or deactivation
        that landed while the password was being verified refuses the login; one that lands
        after this read bumps the generation, which kills these tokens.
        """
        subject = await self._store.get_jwt_subject(user.id)
        if subject is None:
            raise InvalidCredentialsError
        current, version, _ = subject
        if not current.is_active or current.password_hash != user.password_hash:
            raise InvalidCredentialsError
        now = self._clock.now()
        refresh = self._claims(REFRESH, now, self._config.refresh_lifetime, user.id, version)
        access = self._claims(ACCESS, now, self._config.access_lifetime, user.id, version)
        extra = {SESSION_CLAIM: uuid.uuid4().hex, **(extra_claims or {})}
        return self.encode({**refresh, **extra}), self.encode({**access, **extra})

    def _claims(
        self, token_type: str, now: datetime, lifetime: timedelta, user_id: int, version: int
    ) -> dict[str, object]:
        return {
            "token_type": token_type,
            "exp": int((now + lifetime).timestamp()),
            "iat": int(now.timestamp()),
            "jti": uuid.uuid4().hex,
            "user_id": str(user_id),
            VERSION_CLAIM: version,
        }

    def _renewed(
        self,
        claims: Mapping[str, Any],
        token_type: str,
        now: datetime,
        lifetime: timedelta,
        version: int,
    ) -> dict[str, object]:
        """A token renewed from a refresh token's claims, as SimpleJWT renews: a fresh type,
        lifetime and jti, every other claim copied as written (`user_id` an integer in tokens
        of SimpleJWT < 5.5.1, custom claims too); the user's current version."""
        fresh = self._claims(token_type, now, lifetime, 0, version)
        del fresh["user_id"]
        kept = {k: v for k, v in claims.items() if k not in (*fresh, "aud", "iss")}
        return {
            **{k: fresh[k] for k in ("token_type", "exp", "iat", "jti")},
            **kept,
            VERSION_CLAIM: version,
        }

    def encode(self, claims: Mapping[str, object]) -> str:
        """Sign `claims` (adding `aud`/`iss` when configured) as SimpleJWT's backend does."""
        import jwt  # PyJWT, and with it cryptography, load with the first JWT (jwt_algorithms.py)

        payload = dict(claims)
        if self._config.audience is not None:
            payload["aud"] = self._config.audience
        if self._config.issuer is not None:
            payload["iss"] = self._config.issuer
        keys = self._config.keys
        if keys is None:
            return jwt.encode(payload, self._config.key, algorithm=self._config.algorithm)
        return jwt.encode(
            payload, keys.signing_key, algorithm=keys.algorithm, headers={"kid": keys.current.kid}
        )

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS document: the public keys that verify our tokens (none with HMAC)."""
        keys = self._config.keys
        return {"keys": keys.public_jwks() if keys is not None else []}

    # Checking

    def decode(
        self, raw: str, expected_type: str | None, *, allow_expired: bool = False
    ) -> dict[str, Any]:
        """The claims of a token that is authentic, current and of `expected_type` (None: any
        type, as SimpleJWT's UntypedToken); JwtError otherwise, in SimpleJWT's order.
        `allow_expired`: past `exp` is fine (a logout may name an expired session)."""
        import jwt  # PyJWT, and with it cryptography, load with the first JWT (jwt_algorithms.py)

        config = self._config
        algorithms = accepted_algorithms(config.algorithm)
        try:
            # With HMAC there is one key: the header is checked once, after PyJWT parsed it
            # (it can only be ours if the signature holds). Asymmetric keys are chosen by the
            # header's `kid`, so there it is read (unverified) first.
            header = (
                None
                if config.keys is None
                else _checked_header(jwt.get_unverified_header(raw), algorithms)
            )
            decoded = jwt.decode_complete(
                raw,
                config.key if header is None else self._verifying_key(header),
                algorithms=list(algorithms),
                audience=config.audience,
                issuer=config.issuer,
                leeway=config.leeway,
                # Always checked: with no audience configured, a token that names one (minted
                # for another service with the same key) is refused, not ignored.
                options={"verify_aud": True, "strict_aud": True, "verify_exp": not allow_expired},
            )
            _checked_header(decoded["header"], algorithms)
            claims: dict[str, Any] = decoded["payload"]
        except jwt.ExpiredSignatureError as error:
            raise JwtExpiredError from error
        except jwt.InvalidTokenError as error:
            raise JwtError from error
        if config.issuer is None and "iss" in claims:
            # PyJWT ignores `iss` when no issuer is expected; a token from another issuer
            # must not pass because this one has none configured.
            raise JwtError
        if "exp" not in claims:
            raise JwtError("jwt_missing_claim", claim="exp")
        if "jti" not in claims:
            raise JwtError("jwt_no_id")
        if expected_type is not None:
            if "token_type" not in claims:
                raise JwtError("jwt_no_type")
            if claims["token_type"] != expected_type:
                raise JwtError("jwt_wrong_type")
        return claims

    def _verifying_key(self, header: Mapping[str, Any]) -> Any:
        """The configured key that checks a token with this header: the HMAC key, or the
        asymmetric key of its `kid` (JwtError for a `kid` that is not ours)."""
        keys = self._config.keys
        if keys is None:
            return self._config.key
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise JwtError
        key = keys.verifying_key(kid)
        if key is None:
            raise JwtError
        return key

    async def _subject(self, claims: Mapping[str, Any]) -> tuple[User, int]:
        """The active user a token speaks for and their generation, which must be the
        token's, of a login that was not ended; JwtUserError otherwise. Read from the store
        (refresh and verify always are), and kept in the subject cache for authenticate."""
        user_id = _user_id(claims.get("user_id"))
        if user_id is None:
            raise JwtUserError("jwt_no_user_id")
        generation = self._subjects.generation
        subject = await self._store.get_jwt_subject(user_id)
        if subject is None:
            raise JwtUserError("jwt_user_not_found")
        self._subjects.put(user_id, subject, generation=generation)
        return _current(subject, claims), subject[1]

    async def authenticate(self, raw: str) -> Principal:
        """Who an access token proves (SimpleJWT's JWTAuthentication, plus the generation).
        A token seen before skips the signature check, and a user seen recently the store."""
        try:
            verified = self._verified.get(raw)
            if verified is None:
                claims = self.decode(raw, ACCESS)
                verified = self._verified.put(raw, claims, user_id=_user_id(claims.get("user_id")))
            # A user seen recently from the subject cache (nearly every request: no coroutine),
            # else from the store.
            user_id = verified.user_id
            subject = None if user_id is None else self._subjects.get(user_id)
            if subject is not None and subject is verified.subject:
                # Checked against this very subject before: the same verdict (the principal is
                # set with the subject, never None here).
                self._events.jwt_checked(VALID)
                return verified.principal  # type: ignore[return-value]
            if subject is not None:
                user = _current(subject, verified.claims)
            else:
                user, _ = await self._subject(verified.claims)
        except (JwtError, JwtUserError) as error:
            self._events.jwt_checked(_result(error))
            raise
        self._events.jwt_checked(VALID)
        # The user's Principal as last made, while the user is the very same (cached) object:
        # a frozen dataclass costs several coroutine calls' time to build, every request.
        principal = self._principals.get(user.id)
        if principal is None or principal.user is not user:
            principal = Principal(user)
            if self._verified_cache_size > 0:  # no more users than tokens kept
                if len(self._principals) >= self._verified_cache_size:
                    del self._principals[next(iter(self._principals))]
                self._principals[user.id] = principal
        if subject is not None:
            verified.subject, verified.principal = subject, principal
        return principal

    async def verify(self, raw: str) -> None:
        """jwt/verify/: any authentic, current token of a user who can still use it."""
        try:
            claims = self.decode(raw, None)
            if self._blacklisting and await self._store.is_jti_blacklisted(str(claims["jti"])):
                raise JwtBlacklistedError
            await self._subject(claims)
        except (JwtError, JwtUserError) as error:
            self._events.jwt_checked(_result(error))
            if isinstance(error, JwtUserError):
                # SimpleJWT's verify never looks at the user; a revoked token is just invalid.
                raise JwtError from error
            raise
        self._events.jwt_checked(VALID)

    async def refresh(self, raw: str, *, refuse_superuser: bool = False) -> Refreshed:
        """jwt/refresh/: a new access token; with rotation also a new refresh token, the used
        one recorded first (atomically: of two concurrent uses one records it, the other is
        judged as a used token presented again, module docstring). `refuse_superuser` (the
        cookie JWT API, which serves no superuser): PermissionDeniedError for a superuser's
        token before it is spent; a used one comes back as a reuse all the same."""
        claims = self.decode(raw, REFRESH)
        jti = str(claims["jti"])
        if self._blacklisting and (used_at := await self._store.jti_used_at(jti)) is not None:
            return await self._refresh_used(claims, used_at, refuse_superuser=refuse_superuser)
        try:
            user, version = await self._subject(claims)
        except JwtUserError as error:
            # A concurrent reuse of this very token may have ended its login between the
            # check above and now: that is a reuse too, not a stranger's token.
            if self._blacklisting and (used_at := await self._store.jti_used_at(jti)) is not None:
                return await self._refresh_used(claims, used_at, refuse_superuser=refuse_superuser)
            raise _refusal(error) from error
        if refuse_superuser and user.is_superuser:
            raise PermissionDeniedError
        now = self._clock.now()
        access = self._renewed(claims, ACCESS, now, self._config.access_lifetime, version)
        if not self._config.rotate_refresh_tokens:
            return Refreshed(self.encode(access), None, user, access)
        if not self._config.blacklist_after_rotation:
            refresh = self._renewed(claims, REFRESH, now, self._config.refresh_lifetime, version)
            return Refreshed(self.encode(access), self.encode(refresh), user, access)
        expires_at = datetime.fromtimestamp(int(claims["exp"]), now.tzinfo)
        try:
            recorded = await self._store.blacklist_jti(jti, user.id, expires_at, now)
        except NotFoundError:
            raise InvalidCredentialsError from None
        if not recorded:  # a concurrent refresh with the same token recorded it first
            used_at = await self._store.jti_used_at(jti)
            return await self._refresh_used(
                claims, now if used_at is None else used_at, refuse_superuser=refuse_superuser
            )
        successor = self._successor(claims, now, version)
        return Refreshed(self.encode(access), self.encode(successor), user, access)

    async def _refresh_used(
        self, claims: Mapping[str, Any], used_at: datetime, *, refuse_superuser: bool
    ) -> Refreshed:
        """A refresh token used at `used_at` presented again: within the reuse interval, and
        if its successor is still the family's live token, the answer its first use had
        (the same successor, a new access token); otherwise its login ends (JwtReusedError)."""
        now = self._clock.now()
        interval = self._config.reuse_interval
        if (
            self._config.rotate_refresh_tokens
            and interval > timedelta(0)
            and now - used_at <= interval
            and await self._store.jti_used_at(successor_jti(str(claims["jti"]))) is None
        ):
            try:
                user, version = await self._subject(claims)
            except JwtUserError as error:
                raise _refusal(error) from error
            if refuse_superuser and user.is_superuser:
                raise PermissionDeniedError
            access = self._renewed(claims, ACCESS, now, self._config.access_lifetime, version)
            successor = self._successor(claims, used_at, version)
            return Refreshed(self.encode(access), self.encode(successor), user, access)
        await self._end_login(claims)
        raise JwtReusedError

    def _successor(
        self, claims: Mapping[str, Any], used_at: datetime, version: int
    ) -> dict[str, object]:
        """The refresh token that replaces one used at `used_at`: the same claims whenever it
        is written (its jti derived from the used one's, its times from `used_at`)."""
        renewed = self._renewed(claims, REFRESH, used_at, self._config.refresh_lifetime, version)
        renewed["jti"] = successor_jti(str(claims["jti"]))
        return renewed

    @property
    def _blacklisting(self) -> bool:
        # Checked whenever on, as SimpleJWT does: turning rotation off must not bring the
        # refresh tokens already used back to life.
        return self._config.blacklist_after_rotation

    async def _end_login(self, claims: Mapping[str, Any]) -> None:
        """A used refresh token came back: someone holds a copy. End its login (every token
        of its `sid`), so whichever party refreshed first loses it too, and only that login:
        the user's others live on. Without a `sid`, every JWT of the user ends."""
        user_id = _user_id(claims.get("user_id"))
        if user_id is None:
            return
        session = _session(claims)
        if session is None:
            await self.revoke_all(user_id)
        else:
            config = self._config
            # No token of the login outlives this: the newest was issued before now.
            lifetime = max(config.refresh_lifetime, config.access_lifetime) + config.leeway
            lifetime += ENDED_LOGIN_MARGIN
            await self._store.end_jwt_session(session, user_id, self._clock.now() + lifetime)
            await self._forget(user_id)
        if self._audit is not None:
            await self._audit.record(
                audit.REFRESH_REUSE, audit.FAILURE, user_id=user_id, reason="login ended"
            )

    async def log_out_by(self, raw: str) -> bool:
        """Log out the session of an access token, expired or not (a browser's access cookie
        outlives its token): its user's JWTs end if the token is authentic and of their current
        generation. False when it names no live session."""
        try:
            claims = self.decode(raw, ACCESS, allow_expired=True)
            user, _ = await self._subject(claims)
        except (JwtError, JwtUserError):
            return False
        await self.log_out(user.id)
        return True

    async def log_out(self, user_id: int) -> None:
        """Log out: end every JWT of the user (/u/api/ logout), and say so in the audit log."""
        await self.revoke_all(user_id)
        if self._audit is not None:
            await self._audit.record(audit.LOGOUT, user_id=user_id)

    async def revoke_all(self, user_id: int) -> None:
        """Revoke every JWT issued to the user so far (their generation is bumped: a password
        change, a deactivation, a logout), and drop the user's cached generation everywhere."""
        await self._forget(user_id, await self._store.bump_jwt_version(user_id))

    async def _forget(self, user_id: int, version: int | None = None) -> None:
        """Drop the user's cached subject here and in every process (`version`: the user's
        new JWT generation, for the services that follow the revocation bus)."""
        if self._revocations is not None:
            await self._revocations.publish(user_id, jwt_version=version)
        else:
            self._subjects.evict_users({user_id})


def _result(error: JwtError | JwtUserError) -> str:
    """A failed check's result, for the metrics (core/events.py)."""
    if isinstance(error, JwtExpiredError):
        return EXPIRED
    if isinstance(error, JwtBlacklistedError):
        return BLACKLISTED
    if isinstance(error, JwtUserError):
        return INACTIVE if error.code == "jwt_user_inactive" else REVOKED
    return INVALID


def successor_jti(jti: str) -> str:
    """The `jti` of the refresh token that replaces the one of `jti` (32 hex digits, as a
    uuid4's): a function of it, so a refresh presented twice answers the same successor."""
    return hashlib.sha256(_SUCCESSOR_CONTEXT + jti.encode()).hexdigest()[:32]


def _refusal(error: JwtUserError) -> Exception:
    """What a refresh answers for a token whose user cannot have one: its ended login said
    as such, anything else as no active account (SimpleJWT's words)."""
    if error.code == "jwt_session_ended":
        return JwtSessionEndedError()
    return InvalidCredentialsError()


def _session(claims: Mapping[str, Any]) -> str | None:
    """The login (`sid`) a token belongs to; None for a token without one."""
    session = claims.get(SESSION_CLAIM)
    return session if isinstance(session, str) and session else None


def _checked_header(header: Mapping[str, Any], algorithms: tuple[str, ...]) -> Mapping[str, Any]:
    """The header, if it names our algorithm (one of its `algorithms` names), no `crit` and no
    key of its own; JwtError else.
    (PyJWT >= 2.12 refuses unknown `crit` extensions itself; none is known to us.)"""
    if "crit" in header or header.get("alg") not in algorithms:
        raise JwtError
    if not KEY_SOURCE_HEADERS.isdisjoint(header):
        raise JwtError
    return header


def _current(subject: Subject, claims: Mapping[str, Any]) -> User:
    """The subject's user, if still the token's: active, of the token's generation, its login
    not ended; JwtUserError otherwise."""
    user, version, ended = subject
    if not user.is_active:
        raise JwtUserError("jwt_user_inactive")
    if _version(claims) != version:
        raise JwtUserError("jwt_password_changed")
    if ended and _session(claims) in ended:
        raise JwtUserError("jwt_session_ended")
    return user


def _version(claims: Mapping[str, Any]) -> int | None:
    """The generation a token was issued in: 0 without the claim (SimpleJWT's own tokens),
    None (matching no generation) when the claim is not an integer."""
    value = claims.get(VERSION_CLAIM, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _user_id(value: object) -> int | None:
    """The user id of a `user_id` claim: a string (SimpleJWT >= 5.5.1) or an integer (older)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None
