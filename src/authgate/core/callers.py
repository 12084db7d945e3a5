"""Who is asking, for the rules that depend on it (throttling, the audit log).

The HTTP layer sets the caller of each request (http/callers.py) in a context variable, so the
core reads it where it needs it instead of every dialect passing it down through every call;
outside a request (the CLI) there is none.

A caller has two faces: its address as seen, for the audit log and sessions, and the key its
limits count by. An IPv6 client is limited by its prefix (a /64 by default): one host gets a
whole /64 from its provider and may pick any address in it, so counting each address alone
would give it 2**64 budgets. An IPv4-mapped IPv6 address (::ffff:1.2.3.4) is the IPv4 one.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

IPV6_PREFIX = 64  # the default of AUTHGATE_THROTTLE_IPV6_PREFIX
# Parsing an address costs a login more than its throttle's counting, twice per login (the
# throttle's key and the lockout's); clients come back, so their keys are kept.
CLIENT_KEYS_REMEMBERED = 4096


@dataclass(frozen=True, slots=True)
class Caller:
    """A request's client address (None when unknown) and User-Agent; `ipv6_prefix` is the
    length of the IPv6 prefix its limits count by."""

    address: str | None
    user_agent: str | None = None
    ipv6_prefix: int = IPV6_PREFIX
    # The throttled actions already counted in this request (core/probes.py counts a lookup
    # once however many layers ask it): per request, so never compared or hashed.
    counted: set[str] = field(default_factory=set, compare=False, hash=False, repr=False)

    @property
    def limit_key(self) -> str | None:
        """The key this caller's limits count by (see the module's docstring)."""
        return client_key(self.address, self.ipv6_prefix)


current_caller: ContextVar[Caller | None] = ContextVar("authgate_caller", default=None)


def caller_address() -> str | None:
    """The key the current request's client is throttled and locked by: its address, or for
    IPv6 its prefix (`Caller.limit_key`); None outside a request. Audit entries keep the
    address itself (`current_caller`)."""
    caller = current_caller.get()
    return caller.limit_key if caller is not None else None


@lru_cache(maxsize=CLIENT_KEYS_REMEMBERED)
def client_key(address: str | None, ipv6_prefix: int = IPV6_PREFIX) -> str | None:
    """The limit key of a client address: an IPv4 address as is, an IPv4-mapped IPv6 one as
    its IPv4 address, any other IPv6 address as its network of `ipv6_prefix` bits
    ("2001:db8:0:1::/64"). Something that is no address (a test client's name) stays itself."""
    if address is None:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv4Address):
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Network((parsed, ipv6_prefix), strict=False))
