"""`GET /api/audit/`: the audit log, newest first, for staff."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from authgate.core import Core
from authgate.core.errors import ValidationError
from authgate.core.models import AuditEvent, Principal
from authgate.dialects.base import Dialect
from authgate.dialects.drf import DrfViews, Endpoint, Metadata, Operation, json
from authgate.dialects.records.schemas import drf_datetime

PREFIX = "/api/audit"
MAX_LIMIT = 500
# Query parameters that must be whole numbers (`event` is free text).
NUMBERS = ("user_id", "before_id", "limit")


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


def _numbers(request: Request) -> dict[str, int]:
    """The numeric filters given; a 400 under the parameter's name for one that is not."""
    found: dict[str, int] = {}
    for name in NUMBERS:
        value = request.query_params.get(name)
        if value is None:
            continue
        try:
            found[name] = int(value)
        except ValueError:
            raise ValidationError.single(name, "invalid_integer") from None
    return found


def build(core: Core) -> Dialect:
    """The audit dialect, mounted at /api/audit/."""
    drf = DrfViews(core, "audit")

    async def list_events(request: Request, principal: Principal | None) -> Response:
        assert principal is not None  # noqa: S101 the dispatcher authenticated
        numbers = _numbers(request)
        entries = await core.audit.events_for(
            principal.user,
            user_id=numbers.get("user_id"),
            event=request.query_params.get("event") or None,
            before_id=numbers.get("before_id"),
            limit=max(1, min(numbers.get("limit", 100), MAX_LIMIT)),
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
                    response=AuditEventOut,
                    many=True,
                )
            },
            metadata=Metadata("Audit Event List"),
        )
    ]
    app = Starlette(
        routes=drf.routes(endpoints), exception_handlers={HTTPException: drf.http_exception}
    )
    return Dialect("audit", (PREFIX,), app, drf.fast_handlers((PREFIX,), endpoints), endpoints)
