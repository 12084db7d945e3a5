"""Bodies of the records dialect, field for field as DRF's ModelSerializers would render them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from authgate.core.errors import Message
from authgate.core.records import UserRecord
from authgate.core.towns import TOWN_NAME_MAX_LENGTH, Town
from authgate.dialects.fields import OptionalText, Text


def drf_datetime(value: datetime | None) -> str | None:
    """A timestamp as DRF's DateTimeField renders it (ISO 8601 in UTC, `+00:00` as `Z`, with
    microseconds unless they are zero, as Python's isoformat), null as null."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _town_name_length(value: str | None) -> str | None:
    if value is not None and len(value) > TOWN_NAME_MAX_LENGTH:
        message = Message("max_length", {"max_length": TOWN_NAME_MAX_LENGTH})
        raise PydanticCustomError("validators", "validators", {"messages": (message,)})
    return value


TownName = Annotated[Text, AfterValidator(_town_name_length)]
"""Town.name: a CharField(max_length=255), unique (checked apart)."""
OptionalTownName = Annotated[OptionalText, AfterValidator(_town_name_length)]
"""Town.name where a PATCH may leave it out."""


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TownIn(_In):
    """POST /api/towns/ and PUT /api/towns/<id>/."""

    name: TownName


class TownPatchIn(_In):
    """PATCH /api/towns/<id>/."""

    name: OptionalTownName = None


class TownOut(BaseModel):
    """A town."""

    id: int
    name: str

    @classmethod
    def of(cls, town: Town) -> dict[str, object]:
        """The JSON body for `town`."""
        return {"id": town.id, "name": town.name}


class UserRecordOut(BaseModel):
    """GET /user/<id>/: Django's User as a ModelSerializer with every field but the password,
    plus days_count and towns (seed 004), in the seed's order."""

    id: int
    last_login: str | None
    is_superuser: bool
    username: str
    first_name: str
    last_name: str
    email: str
    is_staff: bool
    is_active: bool
    date_joined: str
    days_count: int
    groups: list[int]
    user_permissions: list[int]
    towns: list[int]

    @classmethod
    def of(cls, record: UserRecord) -> dict[str, object]:
        """The JSON body for `record`."""
        user, links = record.user, record.links
        return {
            "id": user.id,
            "last_login": drf_datetime(user.last_login),
            "is_superuser": user.is_superuser,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "is_staff": user.is_staff,
            "is_active": user.is_active,
            "date_joined": drf_datetime(user.date_joined),
            "days_count": record.days_count,
            "groups": list(links.group_ids),
            "user_permissions": list(links.permission_ids),
            "towns": list(links.town_ids),
        }
