"""The endpoint model every dialect declares its paths in: an endpoint is a path and its
methods (operations); the routes, the fast lane and the OpenAPI document are derived from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from authgate.core.models import Principal

FieldInfo = Mapping[str, object]
"""One field as DRF's SimpleMetadata describes it; `label` and `help_text` are message codes."""
Handler = Callable[[Request, Principal | None], Awaitable[Response]]
Check = Callable[[Request, Principal | None], Awaitable[object]]
Fields = Mapping[str, object]
"""A request body's fields, as the fast lane reads a flat JSON object (none for a GET)."""
NO_FIELDS: Fields = {}
PlainSuccess = Callable[[Principal, Fields], object | None]
"""An operation's plain success for this principal and body: what its dialect renders (a
DRF body, an envelope's code and data), or None when the success is not plain (the full view
then answers)."""
SuccessById = Callable[[Principal, str], Awaitable[object]]
"""An operation's success for this principal and the id in its path (`/{id}/`, the text as
the path gives it), awaited (it may read the store, through a cache): what its dialect renders.
It raises what the full view would answer instead (an AuthgateError: an id that is none, a
record the principal may not see)."""


@dataclass(frozen=True, slots=True)
class Operation:
    """One method of an endpoint, and what the OpenAPI document says of it."""

    handler: Handler
    summary: str
    public: bool = False
    request: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    """The query parameters it reads, each a field of this model."""
    response: type[BaseModel] | None = None
    many: bool = False
    status: int = 200
    answer_of: PlainSuccess | None = None
    """For an operation whose success depends only on who asks and on the body's plain
    fields: that success. The full view answers it, and so does the fast lane
    (dialects/lane.py) for every scheme the dialect takes."""
    answer_by_id: SuccessById | None = None
    """For an operation of a `/{id}/` path whose success depends only on who asks and on the
    id: that success, which the full view renders and the fast lane serves as `answer_of`."""
    optional_credentials: bool = False
    """A public operation that acts on the dialect's credentials when it is given them (a
    logout that always succeeds): the document lists them, and none, as its security."""


@dataclass(frozen=True, slots=True)
class Metadata:
    """What OPTIONS answers about an endpoint, as DRF's SimpleMetadata does."""

    name: str
    description: str = ""
    actions: Mapping[str, Mapping[str, FieldInfo]] = field(default_factory=dict)
    """Per method (POST, PUT): the fields DRF describes for it."""
    shows_actions: Check | None = None
    """Raises an AuthgateError for a caller who gets no `actions` (DRF drops them when its
    object check fails)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A path and its methods. `public` decides who may learn which methods exist."""

    path: str
    operations: Mapping[str, Operation]
    public: bool = False
    metadata: Metadata | None = None
