"""The audit log (core/audit.py) and the admin overview's figures."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from authgate.core.models import (
    AuditBucket,
    AuditCounts,
    AuditEvent,
    AuditQuery,
    OverviewNumbers,
)


class AuditStore(Protocol):
    """The audit log (core/audit.py) and the admin overview's figures."""

    async def append_audit(self, *events: AuditEvent) -> None:
        """Add entries to the audit log, in order, in one transaction."""
        ...

    async def audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        """Audit entries, newest first, optionally of one user or kind, older than an id."""
        ...

    async def prune_audit(self, before: datetime) -> int:
        """Delete audit entries older than `before`; returns how many."""
        ...

    async def audit_counts(self, since: datetime, bucket: AuditBucket) -> list[AuditCounts]:
        """The overview's counts per hour or day (UTC) from `since` on, oldest first, in one
        aggregate query; buckets without an entry are left out."""
        ...

    async def overview_numbers(self, now: datetime, locked_since: datetime) -> OverviewNumbers:
        """Users, tokens and sessions live at `now`, logins locked since `locked_since`."""
        ...
