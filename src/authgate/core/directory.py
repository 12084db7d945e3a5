"""The users/towns API's user record (`GET /user/<id>/`): a user with their groups, permissions and
towns, and how long they have been a member. The facade over towns and groups, too.

What the store holds of a user for their record is cached (a PrincipalCache keyed by user id)
and evicted through the revocation feed (core/revocations.py) by every write that changes it:
the user's row (core/users.py), their groups and own permissions (core/groups.py), their
towns (core/towns.py), and the deletion of a group, permission or town, which empties every
cache (ALL_USERS). A password login's last_login is evicted in its own process only
(Revocations.forget_here): other processes show it when their copy ages out. Names of groups
and towns, and a group's permissions, are no part of a record (it shows ids): their changes
evict nothing.
What depends on the time (days_count) or on who asks (visibility) is worked out per read.
A dialect may keep what it renders of a cached record on it (StoredRecord.renderings): that
goes with the record, so the same evictions drop it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from authgate.core.audit import Audit
from authgate.core.clock import Clock
from authgate.core.errors import NotFoundError
from authgate.core.groups import Groups
from authgate.core.models import User, UserLinks
from authgate.core.principal_cache import PrincipalCache
from authgate.core.revocations import Revocations
from authgate.core.towns import Towns
from authgate.settings import RecordsVisibility

if TYPE_CHECKING:
    from authgate.store.protocol import Store


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """What the store holds of a user's record: all of it but the time of reading."""

    user: User
    links: UserLinks
    renderings: dict[str, object] = field(default_factory=dict, compare=False, repr=False)
    """What the dialects made of the record (their JSON of it), each under a key of their own.
    Kept on the record, so it lives as long as the record in the cache: an eviction drops
    both. It depends on nothing but the record (a read works out what depends on who asks or
    when), and is no part of the record's value (not compared)."""


RecordCache = PrincipalCache[StoredRecord]
"""Stored records by user id (as text), evicted per user by the revocation feed."""


@dataclass(slots=True)
class UserRecord:
    """A user as `GET /user/<id>/` shows them, read at `read_at`. Not frozen: a frozen
    dataclass's __init__ costs three times a plain one's, ~4k instructions of each answer of
    the fast lane (~80k), for a value made per read and kept by no one."""

    stored: StoredRecord
    read_at: datetime
    limited: bool = False
    """Only the public part (id, names, join date, towns): another user's record read by
    non-staff under AUTHGATE_USER_RECORDS_VISIBILITY=limited."""

    @property
    def user(self) -> User:
        """The user, as the store held them."""
        return self.stored.user

    @property
    def links(self) -> UserLinks:
        """Their groups, own permissions and towns."""
        return self.stored.links

    @property
    def days_count(self) -> int:
        """Whole days since the user joined, at the time of reading (never negative, should
        a clock step back)."""
        return max(0, (self.read_at - self.stored.user.date_joined).days)


class Directory:
    """User records, towns (`.towns`) and groups and permissions (`.groups`)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        audit_log: Audit,
        *,
        visibility: RecordsVisibility = "all",
        revocations: Revocations | None = None,
        cache: RecordCache | None = None,
    ) -> None:
        """`revocations`: what the writes to groups and towns tell (None: nobody, for a
        directory without `cache` and alone on its store); `cache`: None, no cache."""
        self._store = store
        self._clock = clock
        self._visibility = visibility
        self._cache = cache
        self.towns = Towns(store, revocations)
        self.groups = Groups(store, audit_log, revocations)

    async def read(self, user_id: int) -> UserRecord:
        """The record of a user, or NotFoundError. Any signed-in user may read any user's
        record (the users/towns API: "information about any user"; the record holds no secret): the
        dialect checks only that the caller is signed in."""
        return UserRecord(await self._stored(user_id), self._clock.now())

    async def _stored(self, user_id: int) -> StoredRecord:
        cache = self._cache
        if cache is None:
            return await self._read_store(user_id)
        key = str(user_id)
        stored = cache.get(key)
        if stored is None:
            generation = cache.generation  # before the read: a write racing it is not cached
            stored = await self._read_store(user_id)
            cache.put(key, stored, generation=generation)
        return stored

    async def _read_store(self, user_id: int) -> StoredRecord:
        found = await self._store.get_user_with_links(user_id)
        if found is None:
            raise NotFoundError
        return StoredRecord(*found)

    async def read_for(self, viewer: User, user_id: int) -> UserRecord:
        """The record of a user as `viewer` may see it (AUTHGATE_USER_RECORDS_VISIBILITY):
        their own and, for active staff, anyone's whole; another's whole under `all` (the
        directory API's contract), its public part under `limited`, NotFoundError under
        `staff_only` (as Djoser's HIDE_USERS: whether the id exists is no business of theirs
        either)."""
        limited = False
        if user_id != viewer.id and not (viewer.is_active and viewer.is_staff):
            if self._visibility == "staff_only":
                raise NotFoundError
            limited = self._visibility == "limited"
        # The cache's hit read here, not through _stored: a coroutine less on the fast lane's
        # every answer (about a thousand instructions of an answer of ~77k).
        cache = self._cache
        stored = None if cache is None else cache.get(str(user_id))
        if stored is None:
            stored = await self._stored(user_id)
        return UserRecord(stored, self._clock.now(), limited)
