"""The composition root: every service of the core built once, from the settings, over one
store, mailer, clock and Redis (the counters and the revocation bus), and handed out as one
`Core`. The only module that constructs the core's services; `authgate serve`, the app, the CLI
and the tests all build a core here."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

from authgate.core import Core
from authgate.core.audit import Audit
from authgate.core.clock import Clock, SystemClock
from authgate.core.confirmations import ConfirmationTokens
from authgate.core.counters import Counters
from authgate.core.credentials import Credentials
from authgate.core.directory import Directory, RecordCache
from authgate.core.events import NO_EVENTS, Events
from authgate.core.jwt import JwtConfig, Jwts
from authgate.core.jwt_cache import SubjectCache
from authgate.core.lockout import Lockout, LockoutPolicy
from authgate.core.logins import Logins
from authgate.core.mail import LinkTemplates, Mailer
from authgate.core.models import TokenPrincipal
from authgate.core.notices import Notices
from authgate.core.passwords import Argon2Cost, Passwords
from authgate.core.principal_cache import PrincipalCache
from authgate.core.recovery import Recovery
from authgate.core.revocation_bus import RevocationBus
from authgate.core.revocations import Revocations
from authgate.core.sessions import Session, Sessions
from authgate.core.throttling import LOGIN, PROBE, RECOVERY, REGISTER, Rule, Throttle
from authgate.core.tokens import Tokens
from authgate.core.user_tokens import UserTokens
from authgate.core.users import Users
from authgate.settings import Settings
from authgate.store import Store

if TYPE_CHECKING:
    from authgate.core.jwt_keys import KeyRing

__all__ = ["MIN_SECRET_LENGTH", "build_core", "hash_threads_per_worker"]

MIN_SECRET_LENGTH = 32


def build_core(
    settings: Settings,
    store: Store,
    mailer: Mailer,
    clock: Clock | None = None,
    events: Events = NO_EVENTS,
    argon2: Argon2Cost | None = None,
) -> Core:
    """Wire the core's services from settings; `events` hears what they do (the metrics).
    `argon2` replaces the settings' hashing cost (tests only: no setting reaches it)."""
    secret = settings.secret_key.get_secret_value()
    if len(secret) < MIN_SECRET_LENGTH:
        # Links in emails are signed with it: an empty or short key makes them forgeable.
        raise ValueError(
            f"AUTHGATE_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters"
            " (`authgate serve` generates one for development)"
        )
    jwt_config = _jwt_config(settings, secret)  # reads the key files: fails before any thread
    clock = clock or SystemClock()
    cost = argon2 or Argon2Cost(
        time_cost=settings.argon2_time_cost,
        memory_cost_kib=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
    )
    passwords = Passwords(
        time_cost=cost.time_cost,
        memory_cost_kib=cost.memory_cost_kib,
        parallelism=cost.parallelism,
        min_length=settings.password_min_length,
        threads=settings.password_hash_threads or _usable_cores(),
        events=events,
    )
    cache = PrincipalCache[TokenPrincipal](
        max_entries=settings.token_cache_size, ttl_seconds=settings.token_cache_ttl_seconds
    )
    # Browser sessions are cached as tokens are, under the same bounds (what one process
    # trusts without asking the database again).
    session_cache = PrincipalCache[Session](
        max_entries=settings.token_cache_size, ttl_seconds=settings.token_cache_ttl_seconds
    )
    subjects = SubjectCache(
        max_entries=settings.token_cache_size, ttl_seconds=settings.token_cache_ttl_seconds
    )
    # User records (GET /user/<id>/) too: what the store says of a user, for as long.
    records = RecordCache(
        max_entries=settings.token_cache_size, ttl_seconds=settings.token_cache_ttl_seconds
    )
    revocations = Revocations(
        store,
        [cache, session_cache, subjects, records],
        clock,
        poll_seconds=settings.revocation_poll_seconds,
        bus=RevocationBus(settings.redis_url) if settings.redis_url else None,
        events=events,
    )
    audit = Audit(
        store,
        clock,
        retention_days=settings.audit_retention_days,
        flush_seconds=settings.audit_flush_seconds,
        max_pending=settings.audit_max_pending,
    )
    tokens = Tokens(
        store,
        clock,
        cache=cache,
        revocations=revocations,
        audit=audit,
        ttl_seconds=settings.token_ttl_seconds,
        events=events,
    )
    confirmations = ConfirmationTokens(secret, ttl_seconds=settings.confirmation_link_ttl_seconds)
    links = LinkTemplates(
        frontend_url=settings.frontend_url,
        site_name=settings.site_name,
        activation=settings.activation_url,
        password_reset=settings.password_reset_confirm_url,
        username_reset=settings.username_reset_confirm_url,
    )
    notices = Notices(
        mailer=mailer,
        links=links,
        confirmations=confirmations,
        clock=clock,
        send_confirmation=settings.send_confirmation_email,
        password_changed=settings.password_changed_email_confirmation,
        username_changed=settings.username_changed_email_confirmation,
    )
    jwts = Jwts(
        store,
        clock,
        jwt_config,
        subjects=subjects,
        revocations=revocations,
        audit=audit,
        verified_cache_size=settings.token_cache_size,
        events=events,
    )
    counters = Counters(settings.redis_url, timeout_seconds=settings.redis_timeout_seconds)
    throttle = _throttle(settings, counters, events)
    sessions = Sessions(
        store,
        clock,
        audit,
        cache=session_cache,
        revocations=revocations,
        secret=secret,
        lifetime_seconds=settings.session_lifetime_seconds,
        idle_seconds=settings.session_idle_seconds,
    )
    users = Users(
        store=store,
        passwords=passwords,
        credentials=Credentials(tokens, jwts, sessions),
        notices=notices,
        revocations=revocations,
        clock=clock,
        revoke_tokens_on_password_change=settings.revoke_tokens_on_password_change,
        throttle=throttle,
        audit=audit,
        events=events,
    )
    logins = Logins(
        store=store,
        users=users,
        passwords=passwords,
        clock=clock,
        login_field=settings.login_field,
        throttle=throttle,
        lockout=Lockout(counters, _lockout_policy(settings)),
        audit=audit,
        tokens=tokens,
        revocations=revocations,
        events=events,
    )
    return Core(
        settings=settings,
        store=store,
        clock=clock,
        passwords=passwords,
        tokens=tokens,
        user_tokens=UserTokens(store, revocations, audit),
        users=users,
        logins=logins,
        recovery=Recovery(
            store=store,
            users=users,
            logins=logins,
            notices=notices,
            confirmations=confirmations,
            clock=clock,
            throttle=throttle,
            audit=audit,
        ),
        notices=notices,
        revocations=revocations,
        jwts=jwts,
        directory=Directory(
            store,
            clock,
            audit,
            visibility=settings.user_records_visibility,
            revocations=revocations,
            cache=records,
        ),
        audit=audit,
        sessions=sessions,
        counters=counters,
    )


def _jwt_config(settings: Settings, secret: str) -> JwtConfig:
    """The JWT settings; the signing key defaults to the secret key, as SimpleJWT's. An
    asymmetric algorithm's key files are read (and checked) here, at startup."""
    key = settings.jwt_signing_key.get_secret_value() if settings.jwt_signing_key else secret
    keys: KeyRing | None = None
    if settings.jwt_private_key_file is not None:
        # Only here: PyJWT and cryptography need not load for HMAC keys (core/jwt_algorithms.py).
        from authgate.core.jwt_keys import load_key_ring

        keys = load_key_ring(
            settings.jwt_algorithm,
            settings.jwt_private_key_file,
            settings.jwt_retired_public_key_files,
            settings.jwt_next_public_key_files,
        )
    return JwtConfig(
        algorithm=settings.jwt_algorithm,
        key=key,
        access_lifetime=timedelta(seconds=settings.jwt_access_lifetime_seconds),
        refresh_lifetime=timedelta(seconds=settings.jwt_refresh_lifetime_seconds),
        rotate_refresh_tokens=settings.jwt_rotate_refresh_tokens,
        blacklist_after_rotation=settings.jwt_blacklist_after_rotation,
        reuse_interval=timedelta(seconds=settings.jwt_refresh_reuse_interval_seconds),
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        leeway=timedelta(seconds=settings.jwt_leeway_seconds),
        keys=keys,
    )


def _throttle(settings: Settings, counters: Counters, events: Events) -> Throttle:
    rules = {
        LOGIN: Rule.parse(settings.throttle_login_per_client, settings.throttle_login_per_account),
        REGISTER: Rule.parse(settings.throttle_register_per_client),
        RECOVERY: Rule.parse(
            settings.throttle_recovery_per_client, settings.throttle_recovery_per_account
        ),
        PROBE: Rule.parse(settings.throttle_probe_per_client, settings.throttle_probe_per_account),
    }
    return Throttle(counters, rules, enabled=settings.throttle_enabled, events=events)


def _lockout_policy(settings: Settings) -> LockoutPolicy:
    return LockoutPolicy(
        enabled=settings.lockout_enabled,
        free_failures=settings.lockout_free_failures,
        base_seconds=settings.lockout_base_seconds,
        max_seconds=settings.lockout_max_seconds,
        max_failures=settings.lockout_max_failures,
        reset_seconds=settings.lockout_reset_seconds,
        account_max_seconds=settings.lockout_account_max_delay_seconds,
    )


def hash_threads_per_worker(workers: int) -> int:
    """Hashing threads for each of `workers` processes sharing this process's cores: the
    cores split between them, at least one each."""
    return max(1, _usable_cores() // workers)


def _usable_cores() -> int:
    """Cores this process may run on (its affinity, where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
