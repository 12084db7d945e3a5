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
import logging
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.core.callers import IPV6_PREFIX, Caller, current_caller
from authgate.http.proxies import TrustedProxies

log = logging.getLogger(__name__)
USER_AGENT_MAX = 256  # stored with audit entries; a longer one is cut


class CallerMiddleware:
    """Sets `current_caller` for the duration of each HTTP request."""

    def __init__(
        self, app: ASGIApp, trusted_proxies: Iterable[str] = (), ipv6_prefix: int = IPV6_PREFIX
    ) -> None:
        self._app = app
        self._addresses = ClientAddresses(trusted_proxies, warn_untrusted=True)
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
    """Finds the client address of a request, given the trusted proxies (http/proxies.py)."""

    def __init__(self, trusted_proxies: Iterable[str], *, warn_untrusted: bool = False) -> None:
        self._proxies = TrustedProxies(trusted_proxies)
        # Say once that a peer sends X-Forwarded-For unheard: a proxy that should be listed
        # (`authgate serve` no longer lets uvicorn trust 127.0.0.1 by itself, http/proxies.py).
        self._warn = warn_untrusted

    def of(self, scope: Scope) -> str | None:
        """The client's address, or None when the server does not know the peer."""
        peer = self._proxies.peer(scope)
        if not self._proxies.trusts(peer):
            if self._warn and any(name == b"x-forwarded-for" for name, _ in scope["headers"]):
                self._warn = False
                log.warning(
                    "X-Forwarded-For from %s is ignored: it is not in AUTHGATE_TRUSTED_PROXIES. "
                    "If it is your reverse proxy, list it there, or every client behind it "
                    "counts as %s (throttling, audit log). Said once.",
                    peer,
                    peer,
                )
            return peer
        hops = [
            hop.strip()
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        for hop in reversed(hops):
            if not self._proxies.trusts(hop):
                return hop if _is_address(hop) else peer
        return hops[0] if hops and _is_address(hops[0]) else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
