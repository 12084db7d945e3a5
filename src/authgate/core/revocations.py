"""The revocation feed: every change that must end cached sessions, shared through the database
(and, with Redis configured, pushed to every process at once: core/revocation_bus.py).

Each change to a user that affects what their tokens or browser sessions prove (revocation,
logout, password, profile, activity, deletion) or their record (`GET /user/<id>/`: groups,
permissions, towns, a recovery link's last_login; not a password login's: forget_here) appends
a row; every process polls the rows it has not seen and evicts those users from its caches (the
PrincipalCache of tokens, that of sessions and that of user records, and the JWT SubjectCache).
The database is already shared by every worker and node, so this needs nothing else to run; the
poll interval bounds how long a revoked token or session lives on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from authgate.core.clock import Clock
from authgate.core.errors import UnavailableError
from authgate.core.events import FEED, NO_EVENTS, REDIS, Events
from authgate.core.revocation_bus import RevocationBus

if TYPE_CHECKING:
    from authgate.store.protocol import Store

log = logging.getLogger(__name__)
ALL_USERS = 0
"""The feed's name for every user (no user has id 0): a change to many users' records at once
(a group, permission or town deleted, and every user's link to it with it) empties every
cache, rather than naming each user (whom a read before the delete could miss)."""
# Rows older than this are deleted (the newest always stays). Readers poll every fraction of
# a second, so none is ever that far behind.
RETENTION = timedelta(minutes=10)
PRUNE_EVERY_POLLS = 1200  # once a minute at the default 50 ms poll
FLUSH_SECONDS = 1.0  # at shutdown, the longest wait for queued revocations to reach Redis


class UserCache(Protocol):
    """A cache of what users' tokens prove, which the feed empties per user."""

    def evict_users(self, user_ids: set[int]) -> None:
        """Forget these users."""

    def clear(self) -> None:
        """Forget everyone."""


class Revocations:
    """Publishes changes to the feed and applies everyone's changes to the local cache."""

    def __init__(
        self,
        store: Store,
        caches: Sequence[UserCache],
        clock: Clock,
        *,
        poll_seconds: float,
        bus: RevocationBus | None = None,
        events: Events = NO_EVENTS,
    ) -> None:
        self._store = store
        self._events = events
        self._bus = bus
        self._caches = tuple(caches)
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._last_seen: int | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def publish(
        self, user_id: int, *, jwt_version: int | None = None, push: bool = True
    ) -> None:
        """Drop the user's cached tokens here, and tell every other process (and, through
        Redis when configured, the services behind authgate; `jwt_version`: the user's JWTs
        below it are dead). `push=False`: the feed only, for a change no service behind
        authgate caches (a user's groups or towns): the other processes read it within a poll."""
        self._evict({user_id})
        await self._store.append_revocation(user_id, self._clock.now())
        if push and self._bus is not None:
            self._bus.publish(user_id, jwt_version=jwt_version)  # queued: never waits on Redis

    def forget_here(self, user_id: int) -> None:
        """Drop the user's cached entries in this process only: for a login's last_login,
        which only a user record shows. A feed row per login would add a write (and on
        PostgreSQL the feed's table lock) to every login; the other processes show the new
        last_login once their cached record is older than AUTHGATE_TOKEN_CACHE_TTL_SECONDS."""
        self._evict({user_id})

    async def publish_all(self) -> None:
        """Empty every cache here and in every other process (ALL_USERS). Not pushed through
        Redis: the services behind authgate cache no user's links, which is what such a change
        touches; the other processes read it from the feed within a poll."""
        self._evict({ALL_USERS})
        await self._store.append_revocation(ALL_USERS, self._clock.now())

    async def start(self) -> None:
        """Start following the feed from its current end."""
        self._last_seen = await self._store.last_revocation_id()
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._follow()))
        if self._bus is not None:
            self._tasks.append(loop.create_task(self._bus.follow(self._pushed)))
            self._tasks.append(loop.create_task(self._bus.send()))

    async def stop(self) -> None:
        """Stop following the feed (after sending what is queued for Redis, briefly)."""
        if self._bus is not None and self._tasks:
            await self._bus.flush(FLUSH_SECONDS)
        tasks, self._tasks = self._tasks, []
        if self._bus is not None:
            self._bus.stop_following()  # in case the cancel is swallowed (RevocationBus.follow)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._bus is not None:
            await self._bus.close()

    async def poll(self) -> None:
        """Apply the rows appended since the last poll."""
        rows = await self._store.revocations_after(self._last_seen or 0)
        if rows:
            self._last_seen = rows[-1][0]
            self._evict({user_id for _, user_id in rows})
            self._events.revocations_received(FEED, len(rows))

    def _pushed(self, user_ids: set[int]) -> None:
        """Users changed, as Redis pushed it."""
        self._evict(user_ids)
        self._events.revocations_received(REDIS, len(user_ids))

    def _evict(self, user_ids: set[int]) -> None:
        if ALL_USERS in user_ids:
            for cache in self._caches:
                cache.clear()
            return
        for cache in self._caches:
            cache.evict_users(user_ids)

    async def _follow(self) -> None:
        polls = 0
        outage: float | None = None  # since when the feed cannot be read (monotonic)
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 said once per outage (_say_lost)
                if outage is None:
                    outage = time.monotonic()
                    self._say_lost(error)
                continue
            if outage is not None:
                self._say_back(time.monotonic() - outage)
                outage = None
            polls += 1
            if polls % PRUNE_EVERY_POLLS == 0:
                await self._prune()

    def _say_lost(self, error: Exception) -> None:
        """Once per outage. The caches are kept: each entry still expires after the cache's TTL,
        and the feed is read from where it stopped once it is back, so nothing is missed.
        Emptying them instead would refuse every cached token (503: the database is away too)."""
        if isinstance(error, UnavailableError):
            log.warning(
                "cannot read the revocation feed (%s): cached tokens are served until their TTL"
                " ends, and revocations made elsewhere apply once it is back",
                str(error) or type(error).__name__,  # a timeout says nothing itself
            )
        else:
            log.error("cannot read the revocation feed", exc_info=error)

    def _say_back(self, seconds: float) -> None:
        log.warning("reading the revocation feed again after %.1f s", seconds)
        if seconds >= RETENTION.total_seconds():
            # Rows it missed may have been pruned: forget everything rather than serve a
            # revoked token (what is cached is past its TTL by now anyway).
            for cache in self._caches:
                cache.clear()

    async def _prune(self) -> None:
        now = self._clock.now()
        try:
            await self._store.prune_revocations(now - RETENTION)
            # Blacklisted refresh tokens matter only until they would have expired.
            await self._store.prune_jwt_blacklist(now)
        except Exception as error:  # noqa: BLE001 pruning waits for the next round
            log.warning("could not prune the revocation feed (%s)", error)
