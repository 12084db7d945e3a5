"""Whether a browser sent a request from a site it may come from: the one check, for every
endpoint that sets session cookies at login (/u/api/login/ and refresh/, Djoser's token/login/
with AUTHGATE_CREATE_SESSION_ON_LOGIN), against login CSRF.

An auto-submitted form on another site can make the victim's browser log in with the
attacker's credentials; the cookies then put the victim in the attacker's account (whatever
they type next lands there). Browsers say where a request comes from (`Origin` on every POST,
and `Sec-Fetch-Site`), and a page cannot forge either; clients that are not browsers send
neither header and are let through.

A browser's request is let through when its `Origin` is
- one of AUTHGATE_CORS_ALLOWED_ORIGINS (an app the deployment vouches for, on a sibling
  subdomain or elsewhere; whatever `Sec-Fetch-Site` says), or
- this server's own origin, as the browser addressed it, with `Sec-Fetch-Site` (when sent)
  `same-origin` or `none`. Behind a reverse proxy that rewrites `Host` (nginx's default
  `Host $proxy_host`), that origin is `X-Forwarded-Host`/`X-Forwarded-Proto`, read only from
  AUTHGATE_TRUSTED_PROXIES (http/proxies.py); otherwise it is `Host`. The scheme is compared
  where it is known (from a trusted proxy, or a TLS connection to authgate itself): plain `http`
  on the socket may be a TLS proxy's onward hop, so it decides nothing.

Anything else is refused: another site, a sibling subdomain not listed (`same-site`: a sibling
may be hostile), an opaque origin (`null`: a sandboxed frame, a redirect).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

from authgate.http.proxies import TrustedProxies
from authgate.settings import Settings

log = logging.getLogger(__name__)

# Django's wordings of its Origin failures (django/middleware/csrf.py), where a dialect shows one.
CROSS_SITE_REASON = "Origin checking failed - the request is cross-site."
BAD_ORIGIN_REASON = "Origin checking failed - {origin} does not match any trusted origins."
DEFAULT_PORTS = {"http": 80, "https": 443}
ORIGIN_SHOWN_MAX = 200  # an Origin is echoed in the refusal, cut to this length
SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})


@dataclass(frozen=True, slots=True)
class CrossSite:
    """A refused request: the `Origin` it came from (None when the browser sent none) and its
    `Sec-Fetch-Site`, each as sent (the origin cut to ORIGIN_SHOWN_MAX)."""

    origin: str | None
    fetch_site: str | None

    def django_reason(self) -> str:
        """Django's CSRF reason for it (DRF's `CSRF Failed: <reason>`)."""
        if self.origin is None:
            return CROSS_SITE_REASON
        return BAD_ORIGIN_REASON.format(origin=self.origin)


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int


def _parse_origin(text: str) -> _Origin | None:
    """`scheme://host[:port]` of http(s), normalised; None for `null` or anything else."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return _Origin(scheme, parts.hostname, port or DEFAULT_PORTS[scheme])


def _parse_host(text: str) -> tuple[str, int | None] | None:
    """`host[:port]` of a Host header (IPv6 in brackets); None when it is not one."""
    try:
        parts = urlsplit("//" + text.strip())
        port = parts.port
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname else None


class SameSite:
    """The check, with the deployment's allowed origins and trusted proxies."""

    def __init__(self, allowed_origins: Iterable[str], proxies: TrustedProxies) -> None:
        parsed = (_parse_origin(origin) for origin in allowed_origins)
        self._allowed = frozenset(origin for origin in parsed if origin is not None)
        self._proxies = proxies

    @classmethod
    def from_settings(cls, settings: Settings) -> SameSite:
        """AUTHGATE_CORS_ALLOWED_ORIGINS and AUTHGATE_TRUSTED_PROXIES."""
        return cls(settings.cors_allowed_origins, TrustedProxies(settings.trusted_proxies))

    def refusal(self, request: Request) -> CrossSite | None:
        """Why the request must be refused as cross-site, or None when it may go on."""
        origin = request.headers.get("origin")
        fetch_site = request.headers.get("sec-fetch-site")
        parsed = _parse_origin(origin) if origin is not None else None
        if parsed is not None and parsed in self._allowed:
            return None
        same_origin_fetch = fetch_site is None or fetch_site in SAME_ORIGIN_FETCH
        own = origin is None or (parsed is not None and self._is_own(parsed, request))
        if same_origin_fetch and own:
            return None
        refused = CrossSite(origin[:ORIGIN_SHOWN_MAX] if origin is not None else None, fetch_site)
        # For whoever sets up a proxy: what this server took its own origin to be.
        log.info(
            "refused a cross-site login or refresh: Origin %r, Sec-Fetch-Site %r, addressed "
            "as %r (behind a proxy that rewrites Host, list it in AUTHGATE_TRUSTED_PROXIES; "
            "an app on another origin goes in AUTHGATE_CORS_ALLOWED_ORIGINS)",
            refused.origin,
            fetch_site,
            self._addressed(request),
        )
        return refused

    def _addressed(self, request: Request) -> tuple[str | None, str | None]:
        """(scheme or None when unknown, host[:port]) of the URL the browser used."""
        scope = request.scope
        scheme = self._proxies.forwarded(scope, b"x-forwarded-proto")
        if scheme is None and scope.get("scheme") == "https":
            scheme = "https"  # TLS to authgate itself; plain http may be a TLS proxy's hop
        host = self._proxies.forwarded(scope, b"x-forwarded-host") or request.headers.get("host")
        return (scheme.lower() if scheme else None), host

    def _is_own(self, origin: _Origin, request: Request) -> bool:
        """Whether `origin` is the one the browser addressed this request to."""
        scheme, host_text = self._addressed(request)
        host = _parse_host(host_text) if host_text else None
        if host is None or host[0] != origin.host:
            return False
        if scheme is not None and scheme != origin.scheme:
            return False
        port = host[1] or DEFAULT_PORTS.get(scheme or origin.scheme)
        return port == origin.port
