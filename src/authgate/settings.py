"""Every option of authgate: one typed object from AUTHGATE_* variables and an optional file."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from authgate.key_strength import MAKE_ONE, MIN_BITS, guessable
from authgate.rates import parse_rate

Language = Literal["en", "ru"]
Scheme = Literal["token", "jwt", "session"]
RecordsVisibility = Literal["all", "staff_only", "limited"]
# The dialects that speak DRF and so take DRF's authentication classes (dialects/schemes.py).
AUTHENTICATED_DIALECTS = ("djoser", "directory", "audit")
DATABASE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
# A cookie's Domain: dot-separated DNS labels, two at least (browsers refuse a bare `com`).
COOKIE_DOMAIN = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+")


def _list(value: Any) -> Any:
    """A list setting from the environment: `A,B` (as the settings table shows defaults) or a
    JSON list `["A","B"]`; an empty value is an empty list."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError('not a JSON list: write A,B or ["A","B"]') from None
    return [item.strip() for item in text.split(",") if item.strip()]


def _json_object(value: Any) -> Any:
    """A mapping setting from the environment: a JSON object, refused by name, not value."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ValueError('not a JSON object (e.g. {"djoser": ["token", "jwt"]})') from None


# Every list and mapping setting is one of these: the environment's text is read here, not by
# pydantic-settings' JSON decoding (which takes JSON only and names no setting when it fails).
Texts = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_list)]
Paths = Annotated[tuple[Path, ...], NoDecode, BeforeValidator(_list)]
SchemesByDialect = Annotated[dict[str, tuple[Scheme, ...]], NoDecode, BeforeValidator(_json_object)]


class Settings(BaseSettings):
    """authgate's configuration. Each field is read from `AUTHGATE_<NAME>` (or the env file)."""

    model_config = SettingsConfigDict(
        env_prefix="AUTHGATE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        use_attribute_docstrings=True,
        frozen=True,
    )

    env: Literal["dev", "prod"] = "dev"
    """`prod` refuses to start without an SMTP host or with a guessable secret key (under 128
    bits); `dev` generates a secret key and says at startup that it is dev."""

    database_url: str = "sqlite:///./authgate.sqlite3"
    """`sqlite:///path` (embedded) or `postgresql://user@host:port/db`."""

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(DATABASE_SCHEMES) or value in DATABASE_SCHEMES:
            raise ValueError(
                "not a database URL: write sqlite:///path/authgate.sqlite3 or"
                " postgresql://user:password@host:5432/database"
            )
        return value

    database_pool_size: int = Field(default=10, ge=1)
    """Connections in the PostgreSQL pool of each worker."""

    database_timeout_seconds: float = Field(default=5.0, gt=0)
    """Longest wait for a PostgreSQL connection or query; past it the request fails with 503."""

    secret_key: SecretStr = SecretStr("")
    """Signs activation and reset links. Empty in dev: `authgate serve` generates one. In prod,
    128 bits at least by zxcvbn's estimate: `secrets.token_urlsafe(32)` makes one."""

    login_field: Literal["username", "email"] = "username"
    """Which field identifies a user at login (Djoser's LOGIN_FIELD)."""

    token_keywords: Texts = ("Token", "Bearer")
    """Authorization keywords accepted for opaque tokens; the first is the 401 challenge."""

    authentication: SchemesByDialect = Field(default_factory=dict)
    """Per DRF-speaking dialect (`djoser`, `directory` for /user/, /api/towns/, /api/groups/ and
    /api/permissions/, `audit`): the schemes it accepts, tried in order like DRF's
    `authentication_classes`: `token` (opaque tokens), `jwt` (SimpleJWT access tokens,
    `Bearer`), `session` (the browser session cookie, with the `X-CSRFToken` header on unsafe
    methods). Unnamed dialects take `token` only. The first scheme's challenge is the 401's
    `WWW-Authenticate`; `session` first answers 403 as DRF does. JSON in the environment:
    `{"djoser": ["token", "jwt", "session"]}`."""

    create_session_on_login: bool = False
    """Djoser's CREATE_SESSION_ON_LOGIN: `token/login/` also opens a browser session (its
    cookie, and a `csrftoken` cookie for scripts to echo as `X-CSRFToken`); `token/logout/`
    ends it."""

    token_ttl_seconds: int | None = Field(default=None, ge=1)
    """Lifetime of an opaque token; none (never expires) by default, as DRF."""

    token_cache_size: int = Field(default=50_000, ge=0)
    """Tokens each worker keeps resolved in memory, opaque tokens and verified access JWTs
    alike, and users whose JWT generation it remembers; as many browser sessions and user
    records (`/user/<id>/`) besides (0: always ask the database)."""

    token_cache_ttl_seconds: float = Field(default=60.0, ge=0)
    """Longest a cached token, session, user or user record is trusted without asking the
    database again (the revocation feed evicts changed users long before)."""

    revocation_poll_seconds: float = Field(default=0.05, gt=0)
    """How often each worker reads the revocation feed: the longest a token revoked by another
    worker or node stays usable here."""

    revoke_tokens_on_password_change: bool = True
    """Revoke every token of a user whose password changes or is reset."""

    hide_users: bool = True
    """Djoser's HIDE_USERS: other users' records answer 404 to non-staff."""

    user_records_visibility: RecordsVisibility = "all"
    """Who reads other users' records at `GET /user/<id>/`: `all` (the users/towns API's
    default: any signed-in user reads any record, email, flags and last login included),
    `limited` (non-staff see others' id, names, join date and towns only), `staff_only`
    (non-staff: their own only, 404 for others). Staff and the user themselves always see the
    whole record."""

    user_create_password_retype: bool = False
    """Registration requires `re_password` (Djoser's USER_CREATE_PASSWORD_RETYPE)."""

    set_password_retype: bool = False
    """`set_password` requires `re_new_password`."""

    set_username_retype: bool = False
    """`set_username` requires `re_new_username`."""

    password_reset_confirm_retype: bool = False
    """`reset_password_confirm` requires `re_new_password`."""

    username_reset_confirm_retype: bool = False
    """`reset_username_confirm` requires `re_new_username`."""

    send_activation_email: bool = False
    """New accounts start inactive and get an activation link by email."""

    send_confirmation_email: bool = False
    """Mail a confirmation after activation."""

    password_changed_email_confirmation: bool = False
    """Mail a notice after a password change or reset."""

    username_changed_email_confirmation: bool = False
    """Mail a notice after a username change or reset."""

    confirmation_link_ttl_seconds: int = Field(default=3 * 24 * 3600, ge=60)
    """How long activation and reset links stay valid (Django's PASSWORD_RESET_TIMEOUT)."""

    frontend_url: str = "http://localhost:3000"
    """Base of every link in emails; never taken from the request's Host."""

    site_name: str = "authgate"
    """Name used in email subjects and bodies."""

    activation_url: str = "activate/{uid}/{token}"
    """Path of the activation page under `frontend_url`."""

    password_reset_confirm_url: str = "password/reset/confirm/{uid}/{token}"
    """Path of the password-reset page under `frontend_url`."""

    username_reset_confirm_url: str = "username/reset/confirm/{uid}/{token}"
    """Path of the username-reset page under `frontend_url`."""

    smtp_host: str | None = None
    """SMTP server for outgoing mail. Unset: emails are written to the log instead."""

    smtp_port: int = 25
    """SMTP port."""

    smtp_username: str | None = None
    """SMTP login, if the server needs one."""

    smtp_password: SecretStr | None = None
    """SMTP password."""

    smtp_starttls: bool = False
    """Upgrade the SMTP connection with STARTTLS."""

    smtp_timeout_seconds: float = 10.0
    """Give up on the SMTP server after this long."""

    mail_from: str = "webmaster@localhost"
    """Sender address of every email."""

    default_language: Language = "en"
    """Language of messages when `Accept-Language` names none we have."""

    password_min_length: int = Field(default=8, ge=1)
    """Django's MinimumLengthValidator."""

    argon2_time_cost: int = Field(default=2, ge=2)
    """argon2id iterations (OWASP minimum 2 at 19 MiB)."""

    argon2_memory_cost_kib: int = Field(default=19456, ge=19456)
    """argon2id memory in KiB (OWASP minimum 19 MiB)."""

    argon2_parallelism: int = Field(default=1, ge=1)
    """argon2id lanes."""

    superuser_password: SecretStr | None = None
    """Password for `authgate createsuperuser --no-input` (scripts)."""

    password_hash_threads: int = Field(default=0, ge=0)
    """Threads hashing passwords in each worker; 0 means one per core the process may use,
    shared out among the workers of `authgate serve --workers N`."""

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Log level of the service."""

    log_format: Literal["text", "json"] = "text"
    """`text`: a line per record, UTC timestamp first; `json`: one JSON object a line (time,
    level, logger, message, request_id and the event's fields), for log collectors."""

    access_log: bool = False
    """One log record per request (method, route template, status, duration, client
    address), on the `authgate.access` logger at INFO."""

    jwt_access_lifetime_seconds: int = Field(default=300, ge=1)
    """Lifetime of a JWT access token (SimpleJWT's ACCESS_TOKEN_LIFETIME, 5 minutes)."""

    jwt_refresh_lifetime_seconds: int = Field(default=24 * 3600, ge=1)
    """Lifetime of a JWT refresh token (SimpleJWT's REFRESH_TOKEN_LIFETIME, 1 day)."""

    jwt_rotate_refresh_tokens: bool = False
    """`jwt/refresh/` also returns a new refresh token (SimpleJWT's ROTATE_REFRESH_TOKENS)."""

    jwt_blacklist_after_rotation: bool = True
    """With rotation, a refresh token works once: its `jti` is recorded when it is used."""

    jwt_refresh_reuse_interval_seconds: int = Field(default=10, ge=0)
    """With rotation and blacklisting, how long the refresh token just used may be presented
    again (two tabs refreshing at once): it gets the same successor, and nothing ends. After
    it, a used refresh token coming back ends its login; 0 turns the grace off."""

    jwt_algorithm: Literal["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA", "Ed25519"] = (
        "HS256"
    )
    """Signing algorithm of JWTs; only this one is accepted when verifying. `EdDSA` and
    `Ed25519` (RFC 9864's name) both sign with an Ed25519 key and verify either name; tokens
    and the JWKS carry the name set here. PyJWT (hence SimpleJWT) verifies `EdDSA` only."""

    jwt_private_key_file: Path | None = None
    """PEM private key signing JWTs; required by (and only for) RS256, ES256, EdDSA and
    Ed25519."""

    jwt_retired_public_key_files: Paths = ()
    """PEM public keys of earlier signing keys: their tokens verify until a key is removed
    (`a.pem,b.pem` or a JSON list in the environment)."""

    jwt_next_public_key_files: Paths = ()
    """PEM public keys that will sign next: listed in the JWKS (and accepted) before any token
    is signed with them, so consumers' key caches hold them at the switch (see key rotation
    in the docs). A private key's PEM gives its public half."""

    jwt_signing_key: SecretStr | None = None
    """HMAC key of JWTs; unset means the secret key (as SimpleJWT's SIGNING_KEY). In prod, 128
    bits at least, as the secret key."""

    jwt_audience: str | None = None
    """`aud` written into and required of every JWT, when set."""

    jwt_issuer: str | None = None
    """`iss` written into and required of every JWT, when set."""

    jwt_leeway_seconds: int = Field(default=0, ge=0)
    """Clock skew allowed when checking `exp`, `nbf` and `iat`."""

    jwt_auth_header_types: Texts = ("Bearer",)
    """Authorization keywords for JWTs (case-sensitive, as SimpleJWT); the first is the
    401 challenge."""

    roles: Texts = ("ADMIN", "USER")
    """Application roles a user may hold (the `role` column, `USER` for new users); `/u/api/`
    answers `role` at login and lets `ADMIN` into `test_role/` (`ADMIN,USER` or a
    JSON list in the environment)."""

    cookie_secure: bool = True
    """Every cookie (the `/u/api/` token and CSRF cookies, the browser session's and the
    admin's) is `Secure` (sent over HTTPS only) and named with the `__Host-` prefix
    (`__Secure-` for the path-scoped `/u/api/` token cookies); turn off only for local HTTP,
    where the plain names are used. In dev, a direct plain-HTTP request from this machine to
    localhost, 127.0.0.1 or [::1] gets its cookies without `Secure` and with the plain names
    (unless `SameSite=none`), so that scripts' cookie jars work; the dev server says so at
    startup (http/secure_cookies.py)."""

    cookie_samesite: Literal["lax", "strict", "none"] = "lax"
    """`SameSite` of the `/u/api/` cookies; `none` needs `AUTHGATE_COOKIE_SECURE`."""

    cookie_domain: str | None = None
    """`Domain` of the CSRF cookies that scripts read (`/u/api/`'s `csrf_token`, the session's
    `csrftoken`), as `example.com`: an app on a sibling subdomain (`app.example.com` calling
    `api.example.com`) can then read it and send it back. Those two are then named `__Secure-`,
    not `__Host-`; the token and session cookies stay host-only. Unset: host-only."""

    # Throttling and lockout

    redis_url: str | None = None
    """Redis for state shared by every worker and node (throttling and lockout counters) and
    for revocations pushed to the services behind authgate, as `redis://host:6379/0`; unset:
    each process counts alone."""

    redis_timeout_seconds: float = Field(default=0.2, gt=0, le=5)
    """Longest a request waits on one Redis call of throttling or lockout; past it Redis
    counts as away (each process counts in memory, a background probe watches for its
    return)."""

    trusted_proxies: Texts = ()
    """Addresses or networks of reverse proxies whose `X-Forwarded-For` names the client
    (`10.0.0.0/8,192.168.1.1` or a JSON list in the environment); otherwise the socket's peer
    is. Their `X-Forwarded-Host` and `X-Forwarded-Proto` name the origin a browser addressed
    (the login CSRF check); nobody else's forwarded headers are read, uvicorn's own handling of
    them is off under `authgate serve`."""

    throttle_enabled: bool = True
    """Rate-limit logins, registrations and recovery emails (429 with `Retry-After`)."""

    throttle_login_per_client: str = "30/minute"
    """Login attempts per client address (`N/second`, `N/minute`, `N/hour` or `N/day`)."""

    throttle_login_per_account: str = "10/minute"
    """Password guesses at one account (a login name as sent, whether or not the account
    exists, or a signed-in user's current-password checks) from one client address."""

    throttle_register_per_client: str = "20/hour"
    """Registrations per client address."""

    throttle_recovery_per_client: str = "10/hour"
    """Password/username reset and activation-resend requests per client address."""

    throttle_recovery_per_account: str = "5/hour"
    """Such requests per email address, whether or not it is known."""

    throttle_probe_per_client: str = "30/hour"
    """Checks whether an email or username is taken, per client address: each sign-up, email
    or username change and username reset that looks one up (it tells whether an account
    exists); edits that change no email or username are not counted."""

    throttle_probe_per_account: str = "10/hour"
    """Such checks per signed-in account (staff, who see every account, are not counted)."""

    throttle_ipv6_prefix: int = Field(default=64, ge=1, le=128)
    """IPv6 clients are limited and locked by their network of this many bits (a host may
    pick any address in its /64); IPv4 clients by their address. The audit log shows each
    address as it is."""

    lockout_enabled: bool = True
    """Lock a client address out of an account after repeated failures there, for a growing
    delay (a locked-out attempt fails like a wrong password), and slow every attempt at an
    account that failed from anywhere by a bounded delay."""

    lockout_free_failures: int = Field(default=5, ge=1)
    """Consecutive failures at one account from one address before each further one locks
    that address out (and failures from any address before attempts are slowed)."""

    lockout_base_seconds: float = Field(default=1.0, gt=0)
    """First lock's length (and first account-wide delay); it doubles with every failure."""

    lockout_max_seconds: float = Field(default=900.0, gt=0)
    """Longest growing lock of one address."""

    lockout_max_failures: int = Field(default=100, ge=1, le=100)
    """Consecutive failures from one address after which it stays locked out of the account
    until the count expires or staff unlock it (NIST SP 800-63B: at most 100)."""

    lockout_account_max_delay_seconds: float = Field(default=5.0, ge=0, le=60)
    """Longest delay of an attempt at an account that failed from many addresses: never a
    lock, so that nobody can lock the owner out."""

    lockout_reset_seconds: int = Field(default=86_400, ge=1)
    """Failures are forgotten this long after the first of them."""

    audit_retention_days: int = Field(default=365, ge=1)
    """Audit log entries older than this are deleted (hourly)."""

    audit_flush_seconds: float = Field(default=0.1, ge=0, le=60)
    """Longest an audit entry waits in memory to be written with others, off the request's
    path; a graceful stop writes them all, a killed worker loses at most this long's entries.
    0: each entry is written at once, before the request is answered."""

    audit_max_pending: int = Field(default=1000, ge=1)
    """Audit entries a worker holds unwritten at most (a batch is written early at half);
    when full, a request that adds one waits for the write: entries are never dropped."""

    @field_validator(
        "throttle_login_per_client",
        "throttle_login_per_account",
        "throttle_register_per_client",
        "throttle_recovery_per_client",
        "throttle_recovery_per_account",
        "throttle_probe_per_client",
        "throttle_probe_per_account",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        if value:
            parse_rate(value)  # ValueError names the bad string
        return value

    @field_validator("cookie_domain")
    @classmethod
    def _cookie_domain(cls, value: str | None) -> str | None:
        domain = (value or "").strip().lower()
        if not domain:
            return None
        if not COOKIE_DOMAIN.fullmatch(domain) or _is_ip_address(domain):
            # The value is not shown (docs/configuration-errors.md), the rule is.
            raise ValueError(
                "not a domain such as example.com (no scheme, port, path or leading dot, "
                "nor an IP address)"
            )
        return domain

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            ipaddress.ip_network(network, strict=False)
        return value

    @model_validator(mode="after")
    def _refuse_missing_secret_in_prod(self) -> Settings:
        if self.env == "prod":
            self._refuse_guessable_keys()
        self._refuse_mismatched_jwt_keys()
        if not self.roles:
            raise ValueError("AUTHGATE_ROLES must list at least one role")
        if self.cookie_samesite == "none" and not self.cookie_secure:
            # Browsers drop a SameSite=None cookie that is not Secure.
            raise ValueError("AUTHGATE_COOKIE_SAMESITE=none needs AUTHGATE_COOKIE_SECURE")
        if self.env == "prod" and not self.smtp_host:
            # Without SMTP, emails (and the reset links in them) would go to the log.
            raise ValueError("AUTHGATE_SMTP_HOST must be set when env=prod")
        return self

    def _refuse_guessable_keys(self) -> None:
        """Each secret key must be set and hard to guess (key_strength.py); the error says how
        to make one. The messages never carry the key (nor how weak it was found)."""
        keys = {"AUTHGATE_SECRET_KEY": self.secret_key}
        if self.jwt_signing_key is not None:
            keys["AUTHGATE_JWT_SIGNING_KEY"] = self.jwt_signing_key
        if self.metrics_token is not None:
            keys["AUTHGATE_METRICS_TOKEN"] = self.metrics_token
        for name, key in keys.items():
            value = key.get_secret_value()
            if not value:
                raise ValueError(f"{name} must be set when env=prod; make one with: {MAKE_ONE}")
            if guessable(value):
                raise ValueError(
                    f"{name} is too easy to guess for env=prod (under {MIN_BITS} bits by "
                    f"zxcvbn's estimate); make one with: {MAKE_ONE}"
                )

    def _refuse_mismatched_jwt_keys(self) -> None:
        """Key files go with asymmetric algorithms, the HMAC key with HMAC ones (the keys
        themselves are checked when they are loaded, core/jwt_keys.py)."""
        asymmetric = not self.jwt_algorithm.startswith("HS")
        if asymmetric and self.jwt_private_key_file is None:
            raise ValueError(
                f"AUTHGATE_JWT_PRIVATE_KEY_FILE must be set for {self.jwt_algorithm} JWTs"
            )
        if asymmetric and self.jwt_signing_key is not None:
            raise ValueError(f"AUTHGATE_JWT_SIGNING_KEY is for HMAC, not {self.jwt_algorithm}")
        if not asymmetric and (
            self.jwt_private_key_file
            or self.jwt_retired_public_key_files
            or self.jwt_next_public_key_files
        ):
            raise ValueError(f"{self.jwt_algorithm} JWTs take no key files (HMAC)")

    # Input limits and response hardening

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    """Largest request body read; a longer one is answered 413 in the dialect's shape."""

    max_header_bytes: int = Field(default=16_384, ge=1024)
    """Request headers (names and values together) past which a request is refused with 431;
    uvicorn's parser bounds none itself."""

    request_receive_timeout_seconds: float = Field(default=30.0, gt=0)
    """Longest a client may take to send a request's head (request line and headers), and
    again its body: a slower head closes the connection, a slower body is answered 408
    (slowloris). The head's bound holds under `authgate serve`."""

    max_connections_per_worker: int = Field(default=1000, ge=1)
    """Connections (or requests) a worker of `authgate serve` holds at most; past it, new
    requests are answered 503 (uvicorn's `limit_concurrency`)."""

    hsts_seconds: int = Field(default=0, ge=0)
    """`Strict-Transport-Security: max-age=N` on every answer when above 0 (only behind HTTPS;
    ASVS asks for a year, 31536000)."""

    hsts_include_subdomains: bool = False
    """Add `includeSubDomains` to HSTS (only if every subdomain serves HTTPS)."""

    cors_allowed_origins: Texts = ()
    """Origins (`https://app.example.com`) whose browser scripts may call the API with
    credentials (`A,B` or a JSON list in the environment); empty: no CORS headers at all. Pages
    on them may also log in and refresh by cookie (`/u/api/`, Djoser's session login), which
    the login CSRF check refuses to any other origin but authgate's own."""

    @field_validator("authentication")
    @classmethod
    def _schemes(cls, value: dict[str, tuple[Scheme, ...]]) -> dict[str, tuple[Scheme, ...]]:
        for dialect, schemes in value.items():
            if dialect not in AUTHENTICATED_DIALECTS:
                raise ValueError(f"no DRF dialect {dialect!r}: one of {AUTHENTICATED_DIALECTS}")
            if not schemes or len(set(schemes)) != len(schemes):
                raise ValueError(f"{dialect}: name each scheme once, at least one")
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            # An explicit origin only: a wildcard with credentials would let any site in.
            if not re.fullmatch(r"https?://[^/*\s]+", origin):
                raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
        return value

    # Prometheus metrics, see docs/metrics.md

    metrics_token: SecretStr | None = None
    """Bearer token Prometheus sends to read `/metrics`; unset, there are no metrics (404) and
    nothing is counted. In prod, 128 bits at least, as the secret key."""

    metrics_flush_seconds: float = Field(default=1.0, gt=0, le=60)
    """Longest a worker keeps its counts before they reach `/metrics` (counting in memory keeps
    the hot path cheap; the worker answering a scrape adds its own at once)."""

    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR"
    )
    """prometheus-client's multiprocess directory, where every worker keeps its counts; `authgate
    serve` makes a fresh one per run (and removes it), so leave it unset."""

    # Sessions and the admin UI

    admin_enabled: bool = True
    """Serve the staff admin UI at `/admin/` (session login, CSRF-protected forms)."""

    session_lifetime_seconds: int = Field(default=8 * 3600, ge=60)
    """Absolute lifetime of a browser session (the admin's login); OWASP: 4 to 8 hours."""

    session_idle_seconds: int = Field(default=30 * 60, ge=60)
    """A browser session unused this long ends (OWASP: 15 to 30 minutes for low risk)."""


class ConfigurationError(ValueError):
    """Refused settings, told by name and rule only: never a setting's value."""


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def load_settings(**values: Any) -> Settings:
    """The settings from the environment (and `values`). pydantic's own message repeats each
    refused input, and a check across settings gets them all at once, secrets included: a
    refusal here names the setting and the rule, never a value."""
    try:
        return Settings(**values)
    except ValidationError as error:
        lines = [_refusal(item) for item in error.errors(include_input=False, include_url=False)]
        raise ConfigurationError("\n".join(lines)) from None
    except SettingsError as error:  # a JSON setting that does not parse; names no value
        raise ConfigurationError(str(error)) from None


def _refusal(item: Any) -> str:
    """`AUTHGATE_NAME: rule` for a field's refusal; the rule alone for a check across fields
    (whose messages name their settings themselves)."""
    rule = str(item["msg"]).removeprefix("Value error, ")
    if not item["loc"]:
        return rule
    name, *inner = item["loc"]
    return f"AUTHGATE_{str(name).upper()}{''.join(f'[{part}]' for part in inner)}: {rule}"
