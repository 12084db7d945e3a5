"""URLs of the reference Djoser project: Djoser mounted at auth/ and api/v1/auth/, SimpleJWT's
views at auth/jwt/, and one view guarded by SimpleJWT for the interoperability tests."""

from django.urls import include, path
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import IsAuthenticated
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


urlpatterns = [
    path("auth/", include("djoser.urls")),
    path("auth/", include("djoser.urls.jwt")),
    path("auth/", include("djoser.urls.authtoken")),
    path("api/v1/auth/", include("djoser.urls")),
    path("api/v1/auth/", include("djoser.urls.authtoken")),
    path("jwt-whoami/", jwt_whoami),
]
