"""The SimpleJWT dialect's table of paths, and the routes built from it."""

from __future__ import annotations

from authgate.core import Core
from authgate.dialects.base import Dialect
from authgate.dialects.drf.views import DrfViews
from authgate.dialects.endpoints import Endpoint, Metadata, Operation
from authgate.dialects.simplejwt import schemas as s
from authgate.dialects.simplejwt.views import SimpleJwtViews


def endpoints(views: SimpleJwtViews) -> list[Endpoint]:
    """Every path of the dialect. All are open (SimpleJWT's token views have no
    authentication classes), so a stale Authorization header never gets in the way."""
    return [
        Endpoint(
            "/create/",
            {
                "POST": Operation(
                    views.create,
                    "Log in: a refresh and an access token",
                    public=True,
                    request=s.ObtainIn,
                    response=s.PairOut,
                ),
            },
            public=True,
            metadata=Metadata(
                "Token Obtain Pair",
                "Takes a set of user credentials and returns an access and refresh JSON web\n"
                "token pair to prove the authentication of those credentials.",
                {"POST": s.obtain_fields(views.core.settings.login_field)},
            ),
        ),
        Endpoint(
            "/refresh/",
            {
                "POST": Operation(
                    views.refresh,
                    "A new access token (and refresh token, with rotation)",
                    public=True,
                    request=s.RefreshIn,
                    response=s.RefreshedOut,
                ),
            },
            public=True,
            metadata=Metadata(
                "Token Refresh",
                "Takes a refresh type JSON web token and returns an access type JSON web\n"
                "token if the refresh token is valid.",
                {"POST": s.REFRESH_FIELDS},
            ),
        ),
        Endpoint(
            "/verify/",
            {
                "POST": Operation(
                    views.verify,
                    "Check a token",
                    public=True,
                    request=s.VerifyIn,
                    response=s.VerifiedOut,
                ),
            },
            public=True,
            metadata=Metadata(
                "Token Verify",
                "Takes a token and indicates if it is valid.  This view provides no\n"
                "information about a token's fitness for a particular use.",
                {"POST": s.VERIFY_FIELDS},
            ),
        ),
    ]


def build(core: Core, prefixes: tuple[str, ...]) -> Dialect:
    """The SimpleJWT dialect, to be mounted at each of `prefixes`."""
    drf = DrfViews(core, "simplejwt")
    all_endpoints = endpoints(SimpleJwtViews(core, drf))
    routes = drf.routes(all_endpoints)
    return Dialect(
        "simplejwt", prefixes, routes, drf.http_exception, {}, all_endpoints, drf.security
    )
