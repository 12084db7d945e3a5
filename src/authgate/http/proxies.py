"""Which reverse proxies are believed: the one decision (AUTHGATE_TRUSTED_PROXIES) behind every
`X-Forwarded-*` header authgate reads, the client's address (http/callers.py) and the origin
the browser addressed (http/same_site.py) alike. Anyone can send those headers; only a peer
listed here has them read.

`authgate serve` runs uvicorn with its own proxy headers off (cli.py): uvicorn would otherwise
believe 127.0.0.1 whatever this setting says, and replace the peer by the forwarded client
before this decision could see the proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope


class TrustedProxies:
    """The configured proxy networks, and whether an address or a request's peer is one."""

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = tuple(ipaddress.ip_network(n, strict=False) for n in networks)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trusts(self, address: str | None) -> bool:
        """Whether `address` (an IP address as text) is a trusted proxy."""
        if not self._networks or address is None:  # the usual case: nothing to parse
            return False
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped  # a dual-stack socket's view of an IPv4 proxy
        return any(parsed in network for network in self._networks)

    def peer(self, scope: Scope) -> str | None:
        """The socket's peer address, or None when the server does not know it."""
        client = scope.get("client")
        return client[0] if client else None

    def forwarded(self, scope: Scope, name: bytes) -> str | None:
        """The first value of the forwarded header `name` (lower case, `x-forwarded-host`),
        when the peer is a trusted proxy and sent it; else None. The first: the proxy that
        faced the browser wrote it (a chain of proxies appends after it)."""
        if not self.trusts(self.peer(scope)):
            return None
        for header, value in scope["headers"]:
            if header == name:
                first = value.decode("latin-1").split(",")[0].strip()
                return first or None
        return None
