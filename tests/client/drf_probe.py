"""Run by the reference virtualenv's python (Django + DRF), not collected by pytest: a DRF view
behind authgate.client.drf.AuthgateAuthentication, asked through DRF's request factory, against
the authgate whose URL is argv[1]. Prints one JSON object of the answers for test_drf.py.

argv: authgate URL, a valid token, a URL where nothing listens, a staff user's token, that
user's access JWT, and a JWT stating `is_staff` in its claims. The environment's
AUTHGATE_PROBE_PATH lists (os.pathsep) where authgate's client and httpx are importable; they
are appended, so Django, DRF and their dependencies come from the reference virtualenv.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

sys.path.extend(os.environ["AUTHGATE_PROBE_PATH"].split(os.pathsep))

import django  # type: ignore[import-not-found]
from django.conf import settings  # type: ignore[import-not-found]

settings.configure(
    DEBUG=False,
    SECRET_KEY="drf-probe-" + "x" * 40,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={},
    AUTHGATE={"URL": sys.argv[1], "TIMEOUT": 2.0, "OPTIONS": {"cache_seconds": 0}},
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": ["authgate.client.drf.AuthgateAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from rest_framework.permissions import IsAdminUser  # type: ignore[import-not-found]  # noqa: E402
from rest_framework.response import Response  # type: ignore[import-not-found]  # noqa: E402
from rest_framework.test import APIRequestFactory  # type: ignore[import-not-found]  # noqa: E402
from rest_framework.views import APIView  # type: ignore[import-not-found]  # noqa: E402

from authgate.client import drf  # noqa: E402


class Me(APIView):  # type: ignore[misc]
    def get(self, request):
        return Response(
            {
                "user_id": request.user.pk,
                "username": request.user.username,
                "kind": request.auth.kind,
            }
        )


class Admin(APIView):  # type: ignore[misc]
    permission_classes = (IsAdminUser,)

    def get(self, request):
        return Response({"user_id": request.user.pk, "is_superuser": request.user.is_superuser})


def ask(header: str | None, view: Any = Me) -> dict[str, object]:
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = view.as_view()(APIRequestFactory().get("/me/", **extra))
    response.render()
    return {
        "status": response.status_code,
        "body": json.loads(response.content),
        "challenge": response.get("WWW-Authenticate"),
    }


token = sys.argv[2]
answers = {
    "token": ask(f"Token {token}"),
    "bearer": ask(f"Bearer {token}"),
    "missing": ask(None),
    "invalid": ask("Token " + "0" * 40),
    "other_scheme": ask("Basic am9objpwdw=="),
    "admin_by_john": ask(f"Token {token}", Admin),
    "admin_by_staff": ask(f"Token {sys.argv[4]}", Admin),
    "admin_by_staff_jwt": ask(f"Bearer {sys.argv[5]}", Admin),
    "admin_by_claimed_staff_jwt": ask(f"Bearer {sys.argv[6]}", Admin),
}
settings.AUTHGATE = {"URL": sys.argv[3], "OPTIONS": {"cache_seconds": 0}}
drf.reset_guard()
answers["down"] = ask(f"Token {token}")
print(json.dumps(answers))  # noqa: T201 the probe's answer to the test
