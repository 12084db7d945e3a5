"""Security headers on every answer: the app's, the fast lane's, and the 500s Starlette's
error middleware writes.

The headers are computed once from the settings, as raw (name, value) byte pairs, and added
to each response's start message: a header the answer already carries (the JWKS's public
`Cache-Control`, the docs page's own CSP) is left as it is. The fast lane's answers carry
the same headers without this layer (http/fast_lane.py), so the hot path pays nothing for it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# JSON answers load nothing and may not be framed: the strictest policy there is.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


# The Swagger UI page (/docs): its script, stylesheet and start script from this origin
# (served from the package, http/openapi.py), the document from this origin, no framing.
# Swagger UI draws its icons from data: URIs.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def security_headers(
    *, hsts_seconds: int = 0, hsts_include_subdomains: bool = False
) -> list[tuple[bytes, bytes]]:
    """The headers every answer carries, as raw ASGI pairs."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        # Tokens travel in answers (login, refresh, registration's tokens in cookies): no
        # shared or browser cache may keep any of them, so none keeps any answer.
        (b"cache-control", b"no-store"),
        (b"content-security-policy", API_CSP.encode()),
    ]
    if hsts_seconds > 0:
        value = f"max-age={hsts_seconds}" + (
            "; includeSubDomains" if hsts_include_subdomains else ""
        )
        headers.append((b"strict-transport-security", value.encode()))
    return headers


class SecurityHeaders:
    """ASGI wrapper adding `headers` to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self._app = app
        self._headers = list(headers)
        self._names = frozenset(name for name, _ in headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, adding the headers to its answer's start."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        added = self._headers
        names = self._names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                own = {name.lower() for name, _ in headers if name.lower() in names}
                message["headers"] = headers + (
                    [h for h in added if h[0] not in own] if own else added
                )
            await send(message)

        await self._app(scope, receive, send_with_headers)
