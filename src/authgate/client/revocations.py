"""Revocations pushed by authgate through Redis (authgate's core/revocation_bus.py), so that a
guard refuses a revoked token at once instead of when its cache entry or the JWT expires.

A message names a user: every cached identity of that user is dropped (the next request asks
authgate again), and with `jwt_version` the user's JWTs below that generation (their `ver`
claim) are refused from then on. The subscription runs in a thread (usable by the asyncio and
the blocking guard alike) and reconnects after a lost connection; while Redis is away, the
cache's short TTL and the JWTs' own expiry remain the bound, as without Redis.

Redis is optional (the client's `[redis]` extra): it is imported only when a guard is told to
follow revocations.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from types import ModuleType

log = logging.getLogger(__name__)

CHANNEL = "authgate:revocations"  # authgate's core/revocation_bus.py
RECONNECT_SECONDS = 1.0
MISSING_REDIS = (
    "following authgate's revocations (GuardOptions(redis_url=...)) needs the redis package,"
    " which the client's [redis] extra brings: pip install './clients/python[redis]' in a"
    " checkout of authgate ('authgate-guard[redis]' from a wheel), or pip install redis"
)


def _redis() -> ModuleType:
    """The redis package, or an ImportError that names the extra bringing it."""
    try:
        import redis  # optional: only guards that follow revocations need it
    except ImportError as error:
        raise ImportError(MISSING_REDIS) from error
    return redis


def channel(db: int) -> str:
    """authgate's revocation channel for its Redis database `db` (core/revocation_bus.py's
    rule: publish/subscribe spans a server's databases, so each but 0 has its own)."""
    return CHANNEL if db == 0 else f"{CHANNEL}:{int(db)}"


class RevokedGenerations:
    """The least JWT generation still valid, per user id (as text, like Identity.user_id)."""

    def __init__(self) -> None:
        self._least: dict[str, int] = {}

    def raise_to(self, user_id: str, version: int) -> None:
        """JWTs of `user_id` below `version` are dead."""
        if version > self._least.get(user_id, 0):
            self._least[user_id] = version

    def is_revoked(self, user_id: str, version: int) -> bool:
        """Whether a JWT of this generation was revoked."""
        return version < self._least.get(user_id, 0)


class RevocationSubscriber:
    """Follows authgate's revocation channel in a daemon thread."""

    def __init__(
        self,
        redis_url: str,
        on_revocation: Callable[[str, int | None], None],
    ) -> None:
        self._redis = _redis()
        self._redis_url = redis_url
        self._on_revocation = on_revocation
        self._stopped = threading.Event()
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="authgate-revocations", daemon=True)

    def start(self, *, wait_seconds: float = 5.0) -> bool:
        """Start following; True once subscribed (False if Redis did not answer in time: the
        thread keeps trying)."""
        self._thread.start()
        return self._subscribed.wait(wait_seconds)

    def stop(self) -> None:
        """Stop following (the thread ends within a second)."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                client = self._redis.Redis.from_url(self._redis_url, socket_connect_timeout=1)
                pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call, unused-ignore]
                pubsub.subscribe(channel(client.connection_pool.connection_kwargs.get("db", 0)))
                self._subscribed.set()
                while not self._stopped.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._handle(message.get("data"))
                pubsub.close()
            except (self._redis.RedisError, OSError):
                self._subscribed.clear()
                log.warning("lost the revocation channel; reconnecting", exc_info=True)
                self._stopped.wait(RECONNECT_SECONDS)

    def _handle(self, data: object) -> None:
        try:
            message = json.loads(data) if isinstance(data, bytes | str) else None
        except ValueError:
            message = None
        if not isinstance(message, dict) or "user_id" not in message:
            log.warning("ignored a malformed revocation message")
            return
        version = message.get("jwt_version")
        self._on_revocation(str(message["user_id"]), version if isinstance(version, int) else None)
