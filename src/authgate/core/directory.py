"""The users/towns API's user record (`GET /user/<id>/`): a user with their groups, permissions and
towns, and how long they have been a member. The facade over towns and groups, too."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from authgate.core.audit import Audit
from authgate.core.clock import Clock
from authgate.core.errors import NotFoundError
from authgate.core.groups import Groups
from authgate.core.models import User, UserLinks
from authgate.core.towns import Towns
from authgate.settings import RecordsVisibility

if TYPE_CHECKING:
    from authgate.store.protocol import Store


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as `GET /user/<id>/` shows them, read at `read_at`."""

    user: User
    links: UserLinks
    read_at: datetime
    limited: bool = False
    """Only the public part (id, names, join date, towns): another user's record read by
    non-staff under AUTHGATE_USER_RECORDS_VISIBILITY=limited."""

    @property
    def days_count(self) -> int:
        """Whole days since the user joined, at the time of reading (never negative, should
        a clock step back)."""
        return max(0, (self.read_at - self.user.date_joined).days)


class Directory:
    """User records, towns (`.towns`) and groups and permissions (`.groups`)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        audit_log: Audit,
        *,
        visibility: RecordsVisibility = "all",
    ) -> None:
        self._store = store
        self._clock = clock
        self._visibility = visibility
        self.towns = Towns(store)
        self.groups = Groups(store, audit_log)

    async def read(self, user_id: int) -> UserRecord:
        """The record of a user, or NotFoundError. Any signed-in user may read any user's
        record (the users/towns API: "information about any user"; the record holds no secret): the
        dialect checks only that the caller is signed in."""
        user = await self._store.get_user(user_id)
        if user is None:
            raise NotFoundError
        links = await self._store.get_user_links(user_id)
        return UserRecord(user=user, links=links, read_at=self._clock.now())

    async def read_for(self, viewer: User, user_id: int) -> UserRecord:
        """The record of a user as `viewer` may see it (AUTHGATE_USER_RECORDS_VISIBILITY):
        their own and, for active staff, anyone's whole; another's whole under `all` (seed
        004), its public part under `limited`, NotFoundError under `staff_only` (as Djoser's
        HIDE_USERS: whether the id exists is no business of theirs either)."""
        if user_id == viewer.id or (viewer.is_active and viewer.is_staff):
            return await self.read(user_id)
        if self._visibility == "staff_only":
            raise NotFoundError
        record = await self.read(user_id)
        return record if self._visibility == "all" else replace(record, limited=True)
