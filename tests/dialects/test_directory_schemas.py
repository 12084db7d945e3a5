"""The directory dialect's bodies (dialects/directory/schemas.py): timestamps as DRF writes them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from authgate.dialects.directory.schemas import drf_datetime


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
