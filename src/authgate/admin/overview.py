"""The overview: what the audit log shows per hour of the last day and per day of the last 30
(logins, registrations, lockouts, throttled logins) as charts, and the figures an operator
checks first. Two aggregate queries for the charts and one for the figures, whatever the size
of the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from authgate.admin.charts import Chart, bar_chart
from authgate.admin.context import Admin, staff_page
from authgate.core.models import AuditCounts
from authgate.core.sessions import Session

HOURS, DAYS = 24, 30
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

# The charts: (AuditCounts field, title, colour).
SERIES = (
    ("logins_succeeded", "Logins succeeded", "#2e7d32"),
    ("logins_failed", "Logins failed", "#c62828"),
    ("registrations", "Registrations", "#1565c0"),
    ("lockouts", "Lockouts", "#ef6c00"),
    ("throttled", "Throttled logins", "#6a1b9a"),
)


@dataclass(frozen=True, slots=True)
class Period:
    """A run of buckets: `count` of them of `step`, the last one holding now."""

    name: Literal["hour", "day"]
    first: datetime
    count: int
    step: timedelta

    def starts(self) -> list[datetime]:
        """Each bucket's start, oldest first."""
        return [self.first + self.step * i for i in range(self.count)]


def periods(now: datetime) -> tuple[Period, Period]:
    """The last 24 hours, by hour, and the last 30 days, by day (UTC), each up to now."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    day = hour.replace(hour=0)
    return (
        Period("hour", hour - HOUR * (HOURS - 1), HOURS, HOUR),
        Period("day", day - DAY * (DAYS - 1), DAYS, DAY),
    )


def charts(period: Period, counts: Sequence[AuditCounts]) -> list[Chart]:
    """A chart per series over every bucket of the period (a bucket without entries is 0)."""
    found = {c.bucket: c for c in counts}
    starts = period.starts()
    if period.name == "hour":
        labels = [f"{s:%Y-%m-%d %H}:00 UTC" for s in starts]
        ticks = [f"{s:%H}h" if s.hour % 3 == 0 else "" for s in starts]
    else:
        labels = [f"{s:%Y-%m-%d}" for s in starts]
        ticks = [f"{s:%m-%d}" if i % 5 == (DAYS - 1) % 5 else "" for i, s in enumerate(starts)]
    return [
        Chart(
            chart_id=f"{field}-{period.name}",
            title=title,
            labels=labels,
            ticks=ticks,
            values=[getattr(found[s], field) if s in found else 0 for s in starts],
            fill=fill,
        )
        for field, title, fill in SERIES
    ]


@staff_page
async def overview(request: Request, admin: Admin, session: Session) -> Response:
    """The charts and the figures."""
    core = admin.core
    now = core.clock.now()
    hourly, daily = periods(now)
    per_hour = await core.audit.counts_for(session.user, hourly.first, "hour")
    per_day = await core.audit.counts_for(session.user, daily.first, "day")
    # A lock lasts at most lockout_max_seconds (but a login that reaches max failures stays
    # locked until its count resets; the page says so).
    lock_window = timedelta(seconds=core.settings.lockout_max_seconds)
    numbers = await core.store.overview_numbers(now, now - lock_window)
    return admin.render(
        request,
        "overview.html",
        session,
        numbers=numbers,
        lockout_enabled=core.settings.lockout_enabled,
        lock_minutes=f"{lock_window.total_seconds() / 60:g}",
        hourly=[bar_chart(c) for c in charts(hourly, per_hour)],
        daily=[bar_chart(c) for c in charts(daily, per_day)],
        now=now,
    )
