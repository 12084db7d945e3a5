"""Revocations pushed through Redis, for the services behind authgate (authgate.client).

Inside authgate the revocation feed is the database (core/revocations.py): it needs no Redis
and holds while Redis is away. Services that check tokens themselves (JWTs verified locally,
opaque tokens cached for a few seconds) cannot read that table; with AUTHGATE_REDIS_URL set,
every revocation is also published on the channel CHANNEL as JSON:
`{"user_id": "7"}` (drop what is cached of user 7) or `{"user_id": "7", "jwt_version": 3}`
(also refuse JWTs of user 7 whose `ver` claim is below 3). Publishing is best effort: a lost
message leaves the services' own short TTLs as the backstop.
"""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "authgate:revocations"
TIMEOUT_SECONDS = 0.5


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

    async def publish(self, user_id: int, *, jwt_version: int | None = None) -> None:
        """Tell the subscribed services that a user's tokens changed."""
        message: dict[str, object] = {"user_id": str(user_id)}
        if jwt_version is not None:
            message["jwt_version"] = jwt_version
        try:
            await self._redis.publish(CHANNEL, json.dumps(message))
        except self._errors:
            log.warning("could not publish a revocation to Redis (user %s)", user_id)

    async def close(self) -> None:
        """Close the connection."""
        await self._redis.aclose()
