"""Revocations pushed through Redis: to the other authgate nodes at once, and to the services
behind authgate (authgate.client).

The durable feed is the database (core/revocations.py): it needs no Redis and holds while Redis
is away, but each process reads it only every poll interval. With AUTHGATE_REDIS_URL set, every
revocation is also published on the channel CHANNEL as JSON: `{"user_id": "7"}` (drop what is
cached of user 7) or `{"user_id": "7", "jwt_version": 3}` (also refuse JWTs of user 7 whose
`ver` claim is below 3). Every authgate process subscribes and evicts as the message arrives;
services that check tokens themselves (JWTs verified locally, opaque tokens cached for a few
seconds) do the same. Publishing is best effort and off the request's path: a request only
queues the message (a bounded queue; a full one drops it), and one task per process sends the
queue to Redis, so a frozen Redis (accepting connections, never answering) never makes a logout
wait. A lost message leaves the database feed (for authgate) and the services' own short TTLs as
the backstop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "authgate:revocations"
TIMEOUT_SECONDS = 0.5
RESUBSCRIBE_SECONDS = 1.0
POLL_SECONDS = 0.5
# Messages waiting for Redis. A revocation burst is far smaller; while Redis is frozen each
# message costs the sender TIMEOUT_SECONDS, and past this the newest are dropped.
QUEUE_SIZE = 1000


def channel(db: int) -> str:
    """The channel of the deployment on Redis database `db`. Publish/subscribe spans every
    database of a Redis server: deployments sharing one server on databases 1, 2, ... would
    hear each other's revocations on one channel (user 7 of one evicting user 7 of another).
    Database 0 keeps the plain name."""
    return CHANNEL if db == 0 else f"{CHANNEL}:{db}"


class RevocationBus:
    """Publishes revocations on Redis."""

    def __init__(self, redis_url: str) -> None:
        # Loaded only with Redis configured: the client weighs tens of MB.
        import redis.asyncio
        from redis.exceptions import RedisError

        self._errors: tuple[type[Exception], ...] = (RedisError, OSError)
        self._redis: Any = redis.asyncio.Redis.from_url(
            redis_url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        # A subscriber waits on its socket for as long as nothing is revoked: no read timeout,
        # but a ping now and then, so a dead connection is noticed and replaced.
        self._subscriber: Any = redis.asyncio.Redis.from_url(
            redis_url, socket_connect_timeout=TIMEOUT_SECONDS, health_check_interval=30
        )
        self._channel = channel(int(self._redis.connection_pool.connection_kwargs.get("db", 0)))
        self._stopping: asyncio.Event | None = None
        self._outbox: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self._failing = False  # said once per outage, not per message

    def publish(self, user_id: int, *, jwt_version: int | None = None) -> None:
        """Queue the news that a user's tokens changed, for send() to tell the subscribed
        services. Never waits: with the queue full (Redis away for long), the message is
        dropped and the database feed carries the revocation alone."""
        message: dict[str, object] = {"user_id": str(user_id)}
        if jwt_version is not None:
            message["jwt_version"] = jwt_version
        try:
            self._outbox.put_nowait(json.dumps(message))
        except asyncio.QueueFull:
            self._failed(f"{QUEUE_SIZE} revocations wait for Redis already; dropped one")

    async def send(self) -> None:
        """Publish the queued messages on Redis, one at a time and in order, until cancelled."""
        # A queue of this loop (asyncio binds it to the first that waits on it; a core may
        # start again on another), holding what was queued before.
        queued, self._outbox = self._outbox, asyncio.Queue(QUEUE_SIZE)
        while not queued.empty():
            self._outbox.put_nowait(queued.get_nowait())
        while True:
            message = await self._outbox.get()
            try:
                await self._redis.publish(self._channel, message)
            except self._errors as error:
                self._failed(f"could not publish revocations to Redis ({error})")
            else:
                if self._failing:
                    log.warning("publishing revocations to Redis again")
                    self._failing = False
            finally:
                self._outbox.task_done()

    async def flush(self, seconds: float) -> None:
        """Wait up to `seconds` for the queue to be sent (at shutdown: a command's revocation
        still reaches the services)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.join(), seconds)

    def _failed(self, reason: str) -> None:
        if not self._failing:
            log.warning("%s; the database feed carries revocations meanwhile", reason)
            self._failing = True

    async def follow(self, evict: Callable[[set[int]], None]) -> None:
        """Evict each user whose revocation any process publishes, as it arrives; until
        stop_following(). While Redis is away it retries, and the database feed carries on
        alone. It polls the channel every POLL_SECONDS and checks a flag, rather than blocking
        in listen() until cancelled: with redis-py 8.2 a short-lived core (`authgate users
        unlock`) then hung at shutdown, while 8.1 ended; the flag ends it whatever the client
        does with a cancellation."""
        stopping = self._stopping = asyncio.Event()  # of this loop: a core may start again
        away = False  # said once per outage, not at every retry
        while not stopping.is_set():
            try:
                async with self._subscriber.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    if away:
                        log.warning("back on the Redis revocation channel")
                        away = False
                    while not stopping.is_set():
                        message = await pubsub.get_message(timeout=POLL_SECONDS)
                        user_id = _user_of(message) if message is not None else None
                        if user_id is not None:
                            evict({user_id})
            except self._errors as error:
                if not away:
                    log.warning("lost the Redis revocation channel (%s); retrying", error)
                    away = True
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), RESUBSCRIBE_SECONDS)

    def stop_following(self) -> None:
        """Make follow() return within POLL_SECONDS."""
        if self._stopping is not None:
            self._stopping.set()

    async def close(self) -> None:
        """Close the connections."""
        await self._redis.aclose()
        await self._subscriber.aclose()


def _user_of(message: dict[str, Any]) -> int | None:
    """The user id a channel message names; None for subscription notices and garbage."""
    if message.get("type") != "message":
        return None
    try:
        return int(json.loads(message["data"])["user_id"])
    except (ValueError, TypeError, KeyError):
        log.warning("ignored a malformed revocation message")
        return None
