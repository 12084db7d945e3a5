"""Seed 004's user record (`GET /user/<id>/`): a user with their groups, permissions and
towns, and how long they have been a member. The facade over towns and groups, too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from authgate.core.audit import Audit
from authgate.core.clock import Clock
from authgate.core.errors import NotFoundError
from authgate.core.groups import Groups
from authgate.core.models import User
from authgate.core.towns import Towns

if TYPE_CHECKING:
    from authgate.store import Store


@dataclass(frozen=True, slots=True)
class UserLinks:
    """The ids a user links to, each ascending."""

    group_ids: tuple[int, ...] = ()
    permission_ids: tuple[int, ...] = ()
    town_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as `GET /user/<id>/` shows them, read at `read_at`."""

    user: User
    links: UserLinks
    read_at: datetime

    @property
    def days_count(self) -> int:
        """Whole days since the user joined, at the time of reading (never negative, should
        a clock step back)."""
        return max(0, (self.read_at - self.user.date_joined).days)


class Records:
    """User records, towns (`.towns`) and groups and permissions (`.groups`)."""

    def __init__(self, store: Store, clock: Clock, audit_log: Audit) -> None:
        self._store = store
        self._clock = clock
        self.towns = Towns(store)
        self.groups = Groups(store, audit_log)

    async def read(self, user_id: int) -> UserRecord:
        """The record of a user, or NotFoundError. Any signed-in user may read any user's
        record (seed 004: "information about any user"; the record holds no secret): the
        dialect checks only that the caller is signed in."""
        user = await self._store.get_user(user_id)
        if user is None:
            raise NotFoundError
        links = await self._store.get_user_links(user_id)
        return UserRecord(user=user, links=links, read_at=self._clock.now())
