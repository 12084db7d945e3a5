"""`GET /.well-known/jwks.json`: the public keys that verify authgate's JWTs (RFC 7517), for
services that check access tokens themselves. Empty with an HMAC algorithm (no public key)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from authgate.core import Core

PATH = "/.well-known/jwks.json"
CACHE_CONTROL = "public, max-age=300"
"""How long consumers may keep the document: PyJWKClient's default lifespan too, and the wait
of step 2 of a key rotation (docs/simplejwt.md: a next key is published this long before it
signs)."""


def route(core: Core) -> Route:
    """The JWKS route; the document is built once, as the keys only change on restart."""
    body = json.dumps(core.jwts.jwks(), separators=(",", ":")).encode()

    async def jwks(_: Request) -> Response:
        return Response(
            body,
            media_type="application/json",
            headers={"Cache-Control": CACHE_CONTROL},
        )

    return Route(PATH, jwks, methods=["GET"])
