"""Towns (the users/towns API): a public list of {id, name} that staff edit, and each user's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from authgate.core.errors import ConflictError, Message, NotFoundError, ValidationError
from authgate.core.models import LinkName, Town, User
from authgate.core.staff import require_staff

if TYPE_CHECKING:
    from authgate.core.revocations import Revocations
    from authgate.store.protocol import Store

TOWNS_FIELD = "towns"
MAX_ID = 2**63 - 1  # a signed 64-bit key, the widest of SQLite and PostgreSQL


def unique_ids(ids: Iterable[int]) -> list[int]:
    """`ids` without repeats, in the order given (a repeat links once, as in Django)."""
    return list(dict.fromkeys(ids))


async def check_targets(store: Store, link: LinkName, ids: list[int], field_name: str) -> None:
    """ValidationError under `field_name` naming the first of `ids` that is no target of
    `link`, as DRF's PrimaryKeyRelatedField reports it. An id no database key can hold is
    missing without asking."""
    storable = [i for i in ids if 0 < i <= MAX_ID]
    found = await store.existing_ids(link, storable) if storable else set()
    for target_id in ids:
        if target_id not in found:
            raise ValidationError.single(field_name, "pk_does_not_exist", pk_value=target_id)


class Towns:
    """Reading towns (anyone), changing them (staff), and setting a user's towns. A user's
    towns, and a town's deletion, are told to `revocations` (cached user records show them;
    a town's name they do not)."""

    def __init__(self, store: Store, revocations: Revocations | None = None) -> None:
        self._store = store
        self._revocations = revocations

    async def list_towns(self) -> list[Town]:
        """Every town, by id."""
        return await self._store.list_towns()

    async def get(self, town_id: int) -> Town:
        """The town with this id, or NotFoundError."""
        town = await self._store.get_town(town_id)
        if town is None:
            raise NotFoundError
        return town

    async def name_problems(self, name: str, *, keep: int | None = None) -> list[Message]:
        """Uniqueness problems of a prospective name (`keep`: the town being renamed, whose
        own name is no conflict)."""
        taken = await self._store.get_town_by_name(name)
        return [Message("town_exists")] if taken is not None and taken.id != keep else []

    async def create(self, actor: User, name: str) -> Town:
        """A new town (staff only)."""
        require_staff(actor)
        try:
            return await self._store.create_town(name)
        except ConflictError as conflict:
            raise ValidationError.single("name", "town_exists") from conflict

    async def rename(self, actor: User, town_id: int, name: str) -> Town:
        """Rename a town (staff only); NotFoundError if it is gone."""
        require_staff(actor)
        try:
            town = await self._store.rename_town(town_id, name)
        except ConflictError as conflict:
            raise ValidationError.single("name", "town_exists") from conflict
        if town is None:
            raise NotFoundError
        return town

    async def delete(self, actor: User, town_id: int) -> None:
        """Delete a town (staff only): it leaves every user's towns with it."""
        require_staff(actor)
        if not await self._store.delete_town(town_id):
            raise NotFoundError
        if self._revocations is not None:  # every user of the town lost it
            await self._revocations.publish_all()

    async def check_ids(self, town_ids: Iterable[int]) -> None:
        """ValidationError under `towns` naming the first id that is no town, as DRF's
        PrimaryKeyRelatedField reports it."""
        await check_targets(self._store, "user_towns", unique_ids(town_ids), TOWNS_FIELD)

    async def of_user(self, user: User) -> list[int]:
        """The ids of the user's towns, ascending."""
        return await self._store.linked_ids("user_towns", user.id)

    async def set_for(self, user: User, town_ids: Iterable[int]) -> list[int]:
        """Replace the user's towns; unknown ids raise ValidationError and change nothing.
        Returns the user's towns, ascending."""
        wanted = unique_ids(town_ids)
        await self.check_ids(wanted)
        return await self.assign(user, wanted)

    async def assign(self, user: User, checked_ids: Iterable[int]) -> list[int]:
        """Replace the user's towns with ids `check_ids` has passed (a caller that must check
        before it changes anything else, as registration does); a town deleted since is
        left out, as if deleted just after. Returns the user's towns, ascending."""
        wanted = unique_ids(checked_ids)
        await self._store.set_links("user_towns", user.id, wanted)
        if self._revocations is not None:  # the feed only: no service behind caches towns
            await self._revocations.publish(user.id, push=False)
        return await self._store.linked_ids("user_towns", user.id)

    @staticmethod
    def authorize(actor: User) -> None:
        """PermissionDeniedError unless `actor` may create, rename or delete towns (asked
        before a request's body is read, as DRF checks permissions first)."""
        require_staff(actor)
