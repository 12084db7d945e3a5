"""Who is asking: each request's client address and User-Agent, set for the core to read
(core/callers.py) by a small ASGI middleware.

The address is the socket's peer, unless the peer is a configured trusted proxy: then
`X-Forwarded-For` is read from the right (the hop nearest to us), skipping further trusted
proxies, and the first address that is not one is the client. Without trusted proxies the
header is ignored, since anyone can send it. The address is kept as found (the audit log shows
it); the key limits count it by (an IPv6 client's /64) is the core's (core/callers.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.core.callers import IPV6_PREFIX, Caller, current_caller

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
USER_AGENT_MAX = 256  # stored with audit entries; a longer one is cut


class CallerMiddleware:
    """Sets `current_caller` for the duration of each HTTP request."""

    def __init__(
        self, app: ASGIApp, trusted_proxies: Iterable[str] = (), ipv6_prefix: int = IPV6_PREFIX
    ) -> None:
        self._app = app
        self._addresses = ClientAddresses(trusted_proxies)
        self._ipv6_prefix = ipv6_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        agent = next((v for k, v in scope["headers"] if k == b"user-agent"), None)
        caller = Caller(
            self._addresses.of(scope),
            agent.decode("latin-1")[:USER_AGENT_MAX] if agent is not None else None,
            self._ipv6_prefix,
        )
        token = current_caller.set(caller)
        try:
            await self._app(scope, receive, send)
        finally:
            current_caller.reset(token)


class ClientAddresses:
    """Finds the client address of a request, given the trusted proxies."""

    def __init__(self, trusted_proxies: Iterable[str]) -> None:
        self._trusted = tuple(ipaddress.ip_network(n, strict=False) for n in trusted_proxies)

    def of(self, scope: Scope) -> str | None:
        """The client's address, or None when the server does not know the peer."""
        client = scope.get("client")
        peer: str | None = client[0] if client else None
        if peer is None or not self._is_trusted(peer):
            return peer
        hops = [
            hop.strip()
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop if _is_address(hop) else peer
        return hops[0] if hops and _is_address(hops[0]) else peer

    def _is_trusted(self, address: str) -> bool:
        if not self._trusted:  # the usual case: no need to parse the peer's address
            return False
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped  # a dual-stack socket's view of an IPv4 proxy
        return any(parsed in network for network in self._trusted)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
