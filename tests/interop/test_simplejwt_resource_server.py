"""A stock Django + DRF + SimpleJWT resource server accepts authgate's access tokens.

The reference project (bench/reference, in its own virtualenv) guards `GET /jwt-whoami/` with
SimpleJWT's JWTStatelessUserAuthentication, configured only through SIMPLE_JWT, once per case:
HS256 with the shared signing key; RS256 with the public key file (VERIFYING_KEY) and with
`JWK_URL` (authgate's JWKS, fetched by SimpleJWT's PyJWKClient); ES256 and EdDSA; the
asymmetric cases with AUDIENCE and ISSUER. In each, the view answers the token's user for an
access token, and refuses (401, SimpleJWT's own reason) a refresh token, an expired access
token (issued by authgate while its clock was turned back), a forged one, and one meant for
another service (another key, or the same key and another audience). The other way round,
authgate's `verify/` accepts tokens SimpleJWT minted with the shared key.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.reference.env import REFERENCE_DIR

from tests.interop.conftest import Authgate, serve_authgate, serve_reference

pytestmark = [pytest.mark.reference, pytest.mark.slow]

HMAC_KEY = "interop-shared-hmac-key-of-authgate-and-simplejwt-0123456789"
AUDIENCE = "orders-api"
ISSUER = "https://auth.example.com"
WHOAMI = "/jwt-whoami/"


def _verifying_key(authgate: Authgate) -> dict[str, object]:
    assert authgate.public_key_pem is not None
    return {"VERIFYING_KEY": authgate.public_key_pem.decode()}


def _jwk_url(authgate: Authgate) -> dict[str, object]:
    return {"JWK_URL": authgate.jwks_url}


@dataclass(frozen=True)
class Case:
    """authgate's settings, and the SIMPLE_JWT that a resource server of it is given."""

    authgate: Mapping[str, object]
    keys: Callable[[Authgate], dict[str, object]]
    """How the resource server is told the key: SIGNING_KEY, VERIFYING_KEY or JWK_URL."""
    other_service: Mapping[str, object] = field(default_factory=dict)
    """Settings of an authgate whose tokens are not for this resource server (merged over
    `authgate`, with the same key file unless they name another)."""

    def simple_jwt(self, authgate: Authgate) -> dict[str, object]:
        claims = {"AUDIENCE": AUDIENCE, "ISSUER": ISSUER} if "jwt_audience" in self.authgate else {}
        return {"ALGORITHM": authgate.algorithm, **claims, **self.keys(authgate)}


def _asymmetric(algorithm: str, keys: Callable[[Authgate], dict[str, object]]) -> Case:
    return Case(
        {"jwt_algorithm": algorithm, "jwt_audience": AUDIENCE, "jwt_issuer": ISSUER},
        keys,
        other_service={"jwt_audience": "billing-api"},
    )


CASES = {
    "HS256": Case(
        {"jwt_signing_key": HMAC_KEY},
        lambda _: {"SIGNING_KEY": HMAC_KEY},
        other_service={"jwt_signing_key": HMAC_KEY[::-1]},
    ),
    "RS256-VERIFYING_KEY": _asymmetric("RS256", _verifying_key),
    "RS256-JWK_URL": _asymmetric("RS256", _jwk_url),
    "ES256-VERIFYING_KEY": _asymmetric("ES256", _verifying_key),
    "EdDSA-JWK_URL": _asymmetric("EdDSA", _jwk_url),
}


@dataclass(frozen=True)
class Stack:
    authgate: Authgate
    reference: httpx.Client
    other_service: Authgate

    def whoami(self, token: str) -> httpx.Response:
        return self.reference.get(WHOAMI, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module", params=list(CASES))
def stack(
    request: pytest.FixtureRequest,
    reference_python: Path,
    reference_database: Path,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """authgate, the resource server configured for it, and an authgate of another service."""
    case = CASES[request.param]
    workdir = tmp_path_factory.mktemp("simplejwt-resource")
    with serve_authgate(workdir, sqlite_template, case.authgate) as authgate:
        other = {**case.authgate, **case.other_service}
        if authgate.settings.jwt_private_key_file is not None:
            other.setdefault("jwt_private_key_file", authgate.settings.jwt_private_key_file)
        with (
            serve_authgate(tmp_path_factory.mktemp("other-service"), sqlite_template, other) as o,
            serve_reference(
                reference_python, workdir, reference_database, case.simple_jwt(authgate)
            ) as reference,
        ):
            yield Stack(authgate, reference, o)


def _refusal(answer: httpx.Response) -> str:
    """SimpleJWT's reason for a 401 (the message of its one token class, AccessToken)."""
    assert answer.status_code == 401, answer.text
    body: dict[str, Any] = answer.json()
    assert body["code"] == "token_not_valid", body
    reason: str = body["messages"][0]["message"]
    return reason


def test_accepts_access_token(stack: Stack) -> None:
    pair = stack.authgate.jwt_pair("alice")
    answer = stack.whoami(pair.access)
    assert (answer.status_code, answer.json()) == (200, {"user_id": str(pair.user_id)})


def test_refuses_refresh_token(stack: Stack) -> None:
    pair = stack.authgate.jwt_pair("alice")
    assert _refusal(stack.whoami(pair.refresh)) == "Token has wrong type"


def test_refuses_expired_access_token(stack: Stack) -> None:
    expired = stack.authgate.expired_pair("alice")
    assert _refusal(stack.whoami(expired.access)) == "Token is expired"


def test_refuses_forged_access_token(stack: Stack) -> None:
    header, payload, signature = stack.authgate.jwt_pair("alice").access.split(".")
    forged = f"{header}.{payload}.{signature[:8]}{signature[8:][::-1]}"
    assert _refusal(stack.whoami(forged)) == "Token is invalid"


def test_refuses_token_meant_for_another_service(stack: Stack) -> None:
    theirs = stack.other_service.jwt_pair("alice")
    assert theirs.user_id == stack.authgate.jwt_pair("alice").user_id  # same id, other service
    assert _refusal(stack.whoami(theirs.access)) == "Token is invalid"


def _simplejwt_access_token(python: Path, user_id: int, simple_jwt: Mapping[str, object]) -> str:
    """An access token minted by SimpleJWT itself (AccessToken(), as for_user builds it)."""
    code = (
        "from rest_framework_simplejwt.tokens import AccessToken\n"
        f"token = AccessToken()\ntoken['user_id'] = '{user_id}'\nprint(token)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHGATE_", "DJANGO_"))}
    env |= {
        "REFERENCE_SIMPLE_JWT_JSON": json.dumps(dict(simple_jwt)),
        "PYTHONPATH": str(REFERENCE_DIR),
    }
    done = subprocess.run(
        [str(python), "manage.py", "shell", "-c", code],
        cwd=REFERENCE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "authgate", [{"jwt_signing_key": HMAC_KEY}], ids=["HS256"], indirect=True, scope="module"
)
def test_authgate_verifies_simplejwt_tokens(authgate: Authgate, reference_python: Path) -> None:
    pair = authgate.jwt_pair("simplejwt-user")
    simple_jwt = {"ALGORITHM": "HS256", "SIGNING_KEY": HMAC_KEY}
    token = _simplejwt_access_token(reference_python, pair.user_id, simple_jwt)
    answer = authgate.http.post("/auth/jwt/verify/", json={"token": token})
    assert (answer.status_code, answer.json()) == (200, {}), answer.text
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:8]}{signature[8:][::-1]}"
    assert authgate.http.post("/auth/jwt/verify/", json={"token": forged}).status_code == 401
