"""Bodies of the directory dialect, field for field as DRF's ModelSerializers would render them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from authgate.constants import (
    GROUP_NAME_MAX_LENGTH,
    PERMISSION_CODENAME_MAX_LENGTH,
    PERMISSION_NAME_MAX_LENGTH,
    TOWN_NAME_MAX_LENGTH,
)
from authgate.core.directory import UserRecord
from authgate.core.errors import Message
from authgate.core.models import Group, Permission, Town
from authgate.dialects.fields import OptionalText, Text
from authgate.dialects.pk_lists import PkList


def drf_datetime(value: datetime | None) -> str | None:
    """A timestamp as DRF's DateTimeField renders it (ISO 8601 in UTC, `+00:00` as `Z`, with
    microseconds unless they are zero, as Python's isoformat), null as null."""
    if value is None:
        return None
    # orjson's rendering is isoformat's, `Z` for `+00:00`, at a fraction of its cost (two per
    # record the fast lane serves); tests/dialects/test_directory_schemas.py holds them equal.
    if value.tzinfo is not UTC:  # the stores' own are UTC already: no conversion to pay
        value = value.astimezone(UTC)
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()


def _at_most(limit: int) -> AfterValidator:
    """A CharField's max_length, worded as DRF's MaxLengthValidator."""

    def check(value: str | None) -> str | None:
        if value is not None and len(value) > limit:
            message = Message("max_length", {"max_length": limit})
            raise PydanticCustomError("validators", "validators", {"messages": (message,)})
        return value

    return AfterValidator(check)


TownName = Annotated[Text, _at_most(TOWN_NAME_MAX_LENGTH)]
"""Town.name: a CharField(max_length=255), unique (checked apart)."""
OptionalTownName = Annotated[OptionalText, _at_most(TOWN_NAME_MAX_LENGTH)]
"""Town.name where a PATCH may leave it out."""
GroupName = Annotated[Text, _at_most(GROUP_NAME_MAX_LENGTH)]
"""Group.name: a CharField(max_length=150), unique (checked apart)."""
OptionalGroupName = Annotated[OptionalText, _at_most(GROUP_NAME_MAX_LENGTH)]
"""Group.name where a PATCH may leave it out."""
PermissionName = Annotated[Text, _at_most(PERMISSION_NAME_MAX_LENGTH)]
"""Permission.name: a CharField(max_length=255)."""
Codename = Annotated[Text, _at_most(PERMISSION_CODENAME_MAX_LENGTH)]
"""Permission.codename: a CharField(max_length=100), unique here (checked apart; Django
makes it unique per content type, and authgate has no content types)."""


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TownIn(_In):
    """POST /api/towns/ and PUT /api/towns/<id>/."""

    name: TownName


class TownPatchIn(_In):
    """PATCH /api/towns/<id>/."""

    name: OptionalTownName = None


class GroupIn(_In):
    """POST /api/groups/ and PUT /api/groups/<id>/: `permissions` is optional (Django's
    Group.permissions is blank=True) and read apart (dialects/pk_lists.py)."""

    name: GroupName
    permissions: PkList = None


class GroupPatchIn(_In):
    """PATCH /api/groups/<id>/."""

    name: OptionalGroupName = None
    permissions: PkList = None


class PermissionIn(_In):
    """POST /api/permissions/."""

    name: PermissionName
    codename: Codename


class UserRightsIn(_In):
    """PATCH /user/<id>/ (staff): the user's groups and own permissions, each optional and
    read apart. Every other field of the record is read-only here, so ignored (as DRF
    ignores a read-only field sent): flags and roles change only through the core's own
    checks (the admin, `authgate users set-role`)."""

    groups: PkList = None
    user_permissions: PkList = None


class GroupOut(BaseModel):
    """A group, with its permissions' ids (a ModelSerializer of Django's Group)."""

    id: int
    name: str
    permissions: list[int]

    @classmethod
    def of(cls, group: Group, permission_ids: list[int]) -> dict[str, object]:
        """The JSON body for `group`."""
        return {"id": group.id, "name": group.name, "permissions": permission_ids}


class PermissionOut(BaseModel):
    """A permission (Django's Permission, without its content type)."""

    id: int
    name: str
    codename: str

    @classmethod
    def of(cls, permission: Permission) -> dict[str, object]:
        """The JSON body for `permission`."""
        return {"id": permission.id, "name": permission.name, "codename": permission.codename}


class TownOut(BaseModel):
    """A town."""

    id: int
    name: str

    @classmethod
    def of(cls, town: Town) -> dict[str, object]:
        """The JSON body for `town`."""
        return {"id": town.id, "name": town.name}


# What a limited record shows (AUTHGATE_USER_RECORDS_VISIBILITY=limited): a public profile.
# Left out: email and last login (personal data), the staff/superuser/active flags, groups and
# own permissions (a map of who holds which rights, for whoever targets them).
PUBLIC_FIELDS = frozenset(
    {"id", "username", "first_name", "last_name", "date_joined", "days_count", "towns"}
)
# The one field of a record's JSON that changes from read to read of the same stored record
# (what who asks changes is which of the two renderings below a read takes).
DAYS_COUNT = "days_count"
# The keys of this dialect's renderings of a stored record (StoredRecord.renderings).
_WHOLE_JSON, _PUBLIC_JSON = "directory.user_record.json", "directory.user_record.public_json"


class UserRecordOut(BaseModel):
    """GET /user/<id>/: Django's User as a ModelSerializer with every field but the password,
    plus days_count and towns (the users/towns API), in its order."""

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
        """The JSON body for `record` (a limited record without the private fields)."""
        body = cls._whole(record)
        return {k: v for k, v in body.items() if k in PUBLIC_FIELDS} if record.limited else body

    @classmethod
    def rendered(cls, record: UserRecord) -> orjson.Fragment:
        """The JSON of `of(record)`, byte for byte, rendered once per stored record and kept
        on it (StoredRecord.renderings, which the record cache's evictions drop with the
        record): a read of a cached record takes the answer kept for its day, or splices its
        days_count into it once a day. What a rendering shows depends on the stored record
        and on `limited`, hence one rendering of each."""
        renderings = record.stored.renderings
        key = _PUBLIC_JSON if record.limited else _WHOLE_JSON
        rendering = renderings.get(key)
        if not isinstance(rendering, _RecordJson):  # not rendered yet (what else is ours)
            rendering = renderings[key] = _RecordJson(cls.of(record))
        if not rendering.since <= record.read_at < rendering.until:  # another day's answer
            rendering.splice(record)
        return rendering.answer

    @classmethod
    def _whole(cls, record: UserRecord) -> dict[str, object]:
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


# Bounds of the times of reading a rendering's answer is good for: before and after any.
_EARLIEST, _LATEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


class _RecordJson:
    """A stored record's JSON (whole or public) as last answered, where its days_count's digits
    are in it (`at`:`end`), and the times of reading that answer is good for (`since` <=
    read_at < `until`: those with its days_count). A record's days_count changes once a day,
    so most reads of a cached record take that answer as it is, after two comparisons. One
    copy of the bytes, not pieces and their splice: each cached record keeps this, and its
    bytes are most of it. (Nothing awaits between the check and the splice: the reads of one
    process take turns.)"""

    __slots__ = ("answer", "at", "end", "json", "since", "until")

    def __init__(self, body: dict[str, object]) -> None:
        head, tail = _around(body, DAYS_COUNT)
        self.json, self.at, self.end = head + tail, len(head), len(head)  # no digits yet
        self.since, self.until = _LATEST, _EARLIEST  # no answer spliced yet: good for none
        self.answer = orjson.Fragment(b"")

    def splice(self, record: UserRecord) -> None:
        """The answer for `record`'s time of reading, and the times it is good for: its
        days_count (UserRecord's, whole days since joining, 0 before) is `days` from `days`
        whole days after joining until one more, and 0 from any time before that too."""
        days = record.days_count
        joined = record.stored.user.date_joined
        self.since = joined + timedelta(days=days) if days else _EARLIEST
        try:
            self.until = joined + timedelta(days=days + 1)
        except OverflowError:  # a day past datetime.max: good for the rest of time
            self.until = _LATEST
        digits = b"%d" % days
        self.json = self.json[: self.at] + digits + self.json[self.end :]
        self.end = self.at + len(digits)
        self.answer = orjson.Fragment(self.json)  # the same bytes, not a copy


def _around(body: dict[str, object], key: str) -> tuple[bytes, bytes]:
    """The JSON of a flat object before and after the value of one of its keys, so that
    head + the value's JSON + tail is the object's JSON (orjson's, compact)."""
    keys = list(body)
    at = keys.index(key)
    before, after = keys[:at], keys[at + 1 :]
    head = orjson.dumps({k: body[k] for k in before})[:-1]  # without its closing brace
    head += b"," if before else b""
    head += orjson.dumps(key) + b":"
    tail = b"," + orjson.dumps({k: body[k] for k in after})[1:] if after else b"}"
    return head, tail


def _only_public_fields_required(schema: dict[str, Any]) -> None:
    schema["required"] = [name for name in schema["required"] if name in PUBLIC_FIELDS]


class UserRecordOrProfileOut(UserRecordOut):
    """GET /user/<id>/ under AUTHGATE_USER_RECORDS_VISIBILITY=limited: the whole record for
    staff and the user themselves; another's public fields only (id, names, join date,
    days_count, towns), the others left out."""

    model_config = ConfigDict(json_schema_extra=_only_public_fields_required)
