"""Whether a browser sent a request from another site: the one check, for every endpoint that
sets session cookies at login (/u/api/login/ and refresh/, Djoser's token/login/ with
AUTHGATE_CREATE_SESSION_ON_LOGIN), against login CSRF.

An auto-submitted form on another site can make the victim's browser log in with the
attacker's credentials; the cookies then put the victim in the attacker's account (whatever
they type next lands there). Browsers say where a request comes from (`Sec-Fetch-Site`, and
`Origin` on every cross-site POST); clients that are not browsers send neither header and are
let through.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

# Django's wording of an Origin failure, where a dialect shows one.
CROSS_SITE_REASON = "Origin checking failed - the request is cross-site."


def is_cross_site(request: Request) -> bool:
    """True for a browser's request from another origin (another site, or a sibling
    subdomain: `same-site` is refused too, as a sibling may be hostile)."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != request.headers.get("host")
