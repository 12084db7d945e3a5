"""URLs of the reference Djoser project: Djoser mounted at auth/ and api/v1/auth/, SimpleJWT's
views at auth/jwt/, and one view guarded by SimpleJWT for the interoperability tests (with
SIMPLE_JWT's JWK_URL set, a second one refills SimpleJWT's JWKS cache, for rotation tests)."""

from django.conf import settings
from django.urls import include, path
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication


@api_view(["GET"])
@authentication_classes([JWTStatelessUserAuthentication])
@permission_classes([IsAuthenticated])
def jwt_whoami(request: Request) -> Response:
    """Who a SimpleJWT access token says the caller is (no database lookup: the token's user
    need not exist here)."""
    return Response({"user_id": request.user.id})


@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def jwks_refetch(request: Request) -> Response:
    """Refill SimpleJWT's JWKS cache now, as its PyJWKClient does once the cached set is older
    than its lifespan (300 s, not configurable through SIMPLE_JWT): a rotation test models that
    expiry without waiting for it. Answers the `kid`s the cache now holds."""
    from rest_framework_simplejwt.state import token_backend

    fetched = token_backend.jwks_client.fetch_data()
    return Response({"kids": [key.get("kid") for key in fetched.get("keys", [])]})


urlpatterns = [
    path("auth/", include("djoser.urls")),
    path("auth/", include("djoser.urls.jwt")),
    path("auth/", include("djoser.urls.authtoken")),
    path("api/v1/auth/", include("djoser.urls")),
    path("api/v1/auth/", include("djoser.urls.authtoken")),
    path("jwt-whoami/", jwt_whoami),
]
if settings.SIMPLE_JWT.get("JWK_URL"):
    urlpatterns.append(path("jwks-refetch/", jwks_refetch))
