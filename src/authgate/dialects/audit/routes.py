"""`GET /api/audit/`: the audit log, newest first, for staff."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response

from authgate.core import Core
from authgate.core.models import AuditEvent, Principal
from authgate.dialects.base import Dialect
from authgate.dialects.directory.schemas import drf_datetime
from authgate.dialects.drf.negotiation import json
from authgate.dialects.drf.views import DrfViews
from authgate.dialects.endpoints import Endpoint, Metadata, Operation
from authgate.dialects.fields import OptionalInteger, OptionalText, parse

PREFIX = "/api/audit"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class AuditEventOut(BaseModel):
    """One entry, as staff see it (with the failure reason the client never saw)."""

    model_config = ConfigDict(frozen=True)

    id: int | None
    created_at: str | None
    event: str
    outcome: str
    user_id: int | None
    login: str | None
    address: str | None
    user_agent: str | None
    reason: str | None

    @classmethod
    def of(cls, entry: AuditEvent) -> AuditEventOut:
        """The entry's answer."""
        return cls(
            id=entry.id,
            created_at=drf_datetime(entry.created_at),
            event=entry.event,
            outcome=entry.outcome,
            user_id=entry.user_id,
            login=entry.login,
            address=entry.address,
            user_agent=entry.user_agent,
            reason=entry.reason,
        )


class AuditFilters(BaseModel):
    """The query's filters; a blank one is none. Ids and the limit are whole numbers a
    database column holds, the event text it can store (dialects/fields.py)."""

    user_id: OptionalInteger = None
    event: OptionalText = None
    before_id: OptionalInteger = None
    limit: OptionalInteger = None


def _filters(request: Request) -> AuditFilters:
    """The filters given; a 400 under the parameter's name for one that is not good."""
    given = {name: value for name, value in request.query_params.items() if value.strip()}
    return parse(AuditFilters, given)


def build(core: Core) -> Dialect:
    """The audit dialect, mounted at /api/audit/."""
    drf = DrfViews(core, "audit")

    async def list_events(request: Request, principal: Principal | None) -> Response:
        assert principal is not None  # noqa: S101 the dispatcher authenticated
        filters = _filters(request)
        limit = DEFAULT_LIMIT if filters.limit is None else filters.limit
        entries = await core.audit.events_for(
            principal.user,
            user_id=filters.user_id,
            event=filters.event,
            before_id=filters.before_id,
            limit=max(1, min(limit, MAX_LIMIT)),
        )
        return json([AuditEventOut.of(entry).model_dump() for entry in entries])

    endpoints = [
        Endpoint(
            "/",
            {
                "GET": Operation(
                    list_events,
                    "The audit log, newest first (staff); filters: user_id, event, before_id,"
                    " limit (≤ 500)",
                    query=AuditFilters,
                    response=AuditEventOut,
                    many=True,
                )
            },
            metadata=Metadata("Audit Event List"),
        )
    ]
    fast = drf.fast_handlers((PREFIX,), endpoints)
    routes = drf.routes(endpoints)
    return Dialect("audit", (PREFIX,), routes, drf.http_exception, fast, endpoints, drf.security)
