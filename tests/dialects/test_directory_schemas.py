"""The directory dialect's bodies (dialects/directory/schemas.py): timestamps as DRF writes them;
a user record's JSON rendered ahead but for its days_count, byte for byte the JSON of its body."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from authgate.core.directory import StoredRecord, UserRecord
from authgate.core.models import User, UserLinks
from authgate.dialects.directory.schemas import UserRecordOut, drf_datetime


def drf_reference(value: datetime) -> str:
    """DRF's DateTimeField: Python's isoformat in UTC, `+00:00` written `Z`."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def test_a_timestamp_is_drfs_isoformat_in_utc() -> None:
    draw = random.Random(14)
    edges = [
        datetime(2022, 3, 9, 5, 20, 2, tzinfo=UTC),  # no microseconds: none written
        datetime(2022, 3, 9, 5, 20, 2, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 2, tzinfo=UTC),
        datetime(2026, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ]
    drawn = [
        datetime(
            draw.randint(2, 9998),
            draw.randint(1, 12),
            draw.randint(1, 28),
            draw.randint(0, 23),
            draw.randint(0, 59),
            draw.randint(0, 59),
            draw.choice([0, draw.randint(0, 999_999)]),
            tzinfo=draw.choice([UTC, timezone(timedelta(minutes=draw.randint(-720, 720)))]),
        )
        for _ in range(5000)
    ]
    for value in edges + drawn:
        assert drf_datetime(value) == drf_reference(value), repr(value)
    assert drf_datetime(None) is None


def _stored(kind: str) -> StoredRecord:
    """A plain new user's record, or one with every field at an edge of its JSON."""
    user = User(
        id=7,
        username="ann",
        email="ann@example.com",
        first_name="",
        last_name="",
        password_hash="!",
        is_active=True,
        is_staff=False,
        is_superuser=False,
        role="",
        date_joined=datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        last_login=None,
    )
    if kind == "plain":
        return StoredRecord(user, UserLinks())
    edges = replace(
        user,
        id=2**31,
        username='ü"\\\n\u2028名',
        first_name="Zoë",
        last_name="</script>",
        email="",
        is_active=False,
        is_staff=True,
        is_superuser=True,
        last_login=datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC),
        date_joined=datetime(2026, 12, 6, tzinfo=UTC),
    )
    return StoredRecord(edges, UserLinks(group_ids=(1, 5), permission_ids=(3,), town_ids=(2, 9)))


@pytest.mark.parametrize("kind", ["plain", "edges"])
@pytest.mark.parametrize("limited", [False, True])
def test_a_rendered_record_is_the_json_of_its_body_at_every_read(kind: str, limited: bool) -> None:
    """Each read of the same stored record splices its own days_count into the one rendering
    kept on it; the bytes are the body's JSON, whole or public, whatever the time."""
    stored = _stored(kind)
    joined = stored.user.date_joined
    tick = timedelta(microseconds=1)
    # Back and forth over the days' bounds (the answer kept is a day's), and far from them
    days = [timedelta(days=n) for n in (-2, 0, 1, 2, 1, 0, -1, 400, 10**5, 3, 3)]
    times = [joined + day + step for day in days for step in (-tick, 0 * tick, tick)]
    draw = random.Random(14)
    times += [joined + timedelta(seconds=draw.randint(-(10**6), 10**8)) for _ in range(300)]
    if kind == "edges":  # past the last day a datetime holds
        times += [datetime.max.replace(tzinfo=UTC), joined]
    for read_at in times:
        record = UserRecord(stored, read_at, limited)
        rendered = orjson.dumps(UserRecordOut.rendered(record))
        assert rendered == orjson.dumps(UserRecordOut.of(record)), (record, rendered)
    assert len(stored.renderings) == 1  # rendered once, for this visibility
    assert stored == StoredRecord(stored.user, stored.links)  # no part of its value
