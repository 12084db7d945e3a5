"""What the core tells whoever watches it (the Prometheus metrics, authgate/metrics.py).

The core calls these at the moments worth counting: a login's outcome, a token check, a
revocation received. This base ignores them all (metrics off, the CLI); the metrics replace
it. The calls sit on the hot path (every token check), so an implementation must keep them to
a few hundred nanoseconds: authgate/metrics.py adds to plain integers and moves them to
Prometheus at intervals. Labels are the fixed strings below, never user input.
"""

from __future__ import annotations

# Login outcomes (the audit log's failure reasons, plus success and throttled).
SUCCESS = "success"
WRONG_PASSWORD = "wrong_password"
UNKNOWN_USER = "unknown_user"
INACTIVE = "inactive"
LOCKED = "locked"
THROTTLED = "throttled"
LOGIN_OUTCOMES = (SUCCESS, WRONG_PASSWORD, UNKNOWN_USER, INACTIVE, LOCKED, THROTTLED)

# Token check results (opaque tokens and JWTs alike; `blacklisted` and `revoked` are JWTs').
VALID = "valid"
INVALID = "invalid"
EXPIRED = "expired"
REVOKED = "revoked"
BLACKLISTED = "blacklisted"
CHECK_RESULTS = (VALID, INVALID, EXPIRED, INACTIVE, REVOKED, BLACKLISTED)

# Where a revocation came from: the database's feed, or Redis's push.
FEED = "feed"
REDIS = "redis"


class Events:
    """The core's events; this base does nothing with them."""

    def login(self, outcome: str) -> None:
        """A login attempt ended with `outcome` (one of LOGIN_OUTCOMES)."""

    def registered(self) -> None:
        """A user was created."""

    def token_checked(self, result: str, *, cached: bool) -> None:
        """An opaque token was checked (`cached`: answered from memory, no database read)."""

    def jwt_checked(self, result: str) -> None:
        """A JWT was checked (an access token's use, or jwt/verify/)."""

    def revocations_received(self, source: str, users: int) -> None:
        """`users` users' changes arrived from another process, through `source`."""

    def throttled(self, action: str) -> None:
        """An attempt at `action` (core/throttling.py's names) was refused for its rate."""

    def locked_out(self) -> None:
        """A failure locked a login (core/lockout.py)."""

    def password_hashed(self, operation: str, seconds: float) -> None:
        """An argon2id `operation` ("hash" or "verify") took `seconds` of a hashing thread.
        Called from that thread."""


NO_EVENTS = Events()
