"""Who is asking, for the rules that depend on it (throttling, the audit log).

The HTTP layer sets the caller of each request (http/callers.py) in a context variable, so the
core reads it where it needs it instead of every dialect passing it down through every call;
outside a request (the CLI) there is none.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Caller:
    """A request's client address (None when unknown) and User-Agent."""

    address: str | None
    user_agent: str | None = None
    # The throttled actions already counted in this request (core/probes.py counts a lookup
    # once however many layers ask it): per request, so never compared or hashed.
    counted: set[str] = field(default_factory=set, compare=False, hash=False, repr=False)


current_caller: ContextVar[Caller | None] = ContextVar("authgate_caller", default=None)


def caller_address() -> str | None:
    """The current request's client address; None outside a request."""
    caller = current_caller.get()
    return caller.address if caller is not None else None
