"""Third-party JWT libraries check authgate's access tokens with nothing but its JWKS.

authlib, joserfc, jwcrypto, PyJWT's PyJWKClient and python-jose each get the document of
`/.well-known/jwks.json` over HTTP (PyJWKClient fetches it itself) and verify RS256, ES256 and
EdDSA tokens of `/auth/jwt/create/`, requiring the configured audience and issuer, as a resource
server would. Each must also refuse what a resource server must refuse: a token whose claims
were changed, a token for another audience or from another issuer, an expired token, and a
refresh token, which is as well signed as an access token and differs only by its `token_type`
claim: the consumer must ask for `token_type == "access"` (authlib, joserfc and jwcrypto can
require a claim's value; with PyJWT and python-jose the consumer compares it itself)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# python-jose, jwcrypto and authlib ship no type hints (and no stubs are locked).
import jose.constants  # type: ignore[import-untyped]
import jose.exceptions  # type: ignore[import-untyped]
import jose.jwt  # type: ignore[import-untyped]
import joserfc.errors
import joserfc.jwk
import joserfc.jwt
import jwcrypto.common
import jwcrypto.jwk
import jwcrypto.jwt
import jwt
import pytest
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.jose.errors import JoseError as AuthlibError

from tests.interop.conftest import ASYMMETRIC_ALGORITHMS, Authgate, JwtPair

AUDIENCE = "orders-api"
ISSUER = "https://auth.example.com"
OTHER_AUDIENCE = "billing-api"
OTHER_ISSUER = "https://auth.other.example.com"
ACCESS = "access"

SETUPS = [
    pytest.param(
        {"jwt_algorithm": algorithm, "jwt_audience": AUDIENCE, "jwt_issuer": ISSUER}, id=algorithm
    )
    for algorithm in ASYMMETRIC_ALGORITHMS
]
pytestmark = pytest.mark.parametrize("authgate", SETUPS, indirect=True, scope="module")


@dataclass(frozen=True)
class Expected:
    """What the resource server was told: where the keys are and which claims to require."""

    authgate: Authgate
    audience: str = AUDIENCE
    issuer: str = ISSUER
    token_type: str | None = ACCESS
    """None: any type (only to show that a refresh token's signature is fine)."""

    @property
    def algorithm(self) -> str:
        return self.authgate.algorithm


def _authlib(token: str, expected: Expected) -> dict[str, Any]:
    keys = JsonWebKey.import_key_set(expected.authgate.jwks())
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": expected.issuer},
        "aud": {"essential": True, "value": expected.audience},
        "exp": {"essential": True},
    }
    if expected.token_type is not None:
        options["token_type"] = {"essential": True, "value": expected.token_type}
    claims = JsonWebToken([expected.algorithm]).decode(token, keys, claims_options=options)
    claims.validate()
    return dict(claims)


def _joserfc(token: str, expected: Expected) -> dict[str, Any]:
    keys = joserfc.jwk.KeySet.import_key_set(expected.authgate.jwks())  # type: ignore[arg-type]
    decoded = joserfc.jwt.decode(token, keys, algorithms=[expected.algorithm])
    rules: dict[str, Any] = {
        "iss": {"essential": True, "value": expected.issuer},
        "aud": {"essential": True, "value": expected.audience},
        "exp": {"essential": True},
    }
    if expected.token_type is not None:
        rules["token_type"] = {"essential": True, "value": expected.token_type}
    joserfc.jwt.JWTClaimsRegistry(**rules).validate(decoded.claims)
    return dict(decoded.claims)


def _jwcrypto(token: str, expected: Expected) -> dict[str, Any]:
    keys = jwcrypto.jwk.JWKSet.from_json(json.dumps(expected.authgate.jwks()))
    checks: dict[str, Any] = {"iss": expected.issuer, "aud": expected.audience, "exp": None}
    if expected.token_type is not None:
        checks["token_type"] = expected.token_type
    verified = jwcrypto.jwt.JWT(jwt=token, key=keys, algs=[expected.algorithm], check_claims=checks)
    claims: dict[str, Any] = json.loads(verified.claims)
    return claims


_JWK_CLIENTS: dict[str, jwt.PyJWKClient] = {}


def _pyjwkclient(token: str, expected: Expected) -> dict[str, Any]:
    # Long-lived, as in a resource server: one client (and its JWKS cache) per authgate.
    url = expected.authgate.jwks_url
    client = _JWK_CLIENTS.setdefault(url, jwt.PyJWKClient(url))
    claims: dict[str, Any] = jwt.decode(
        token,
        client.get_signing_key_from_jwt(token).key,
        algorithms=[expected.algorithm],
        audience=expected.audience,
        issuer=expected.issuer,
        options={"require": ["exp", "aud", "iss"]},
    )
    if expected.token_type is not None and claims.get("token_type") != expected.token_type:
        raise jwt.InvalidTokenError("not an access token")
    return claims


def _python_jose(token: str, expected: Expected) -> dict[str, Any]:
    claims: dict[str, Any] = jose.jwt.decode(
        token,
        expected.authgate.jwks(),
        algorithms=[expected.algorithm],
        audience=expected.audience,
        issuer=expected.issuer,
    )
    if expected.token_type is not None and claims.get("token_type") != expected.token_type:
        raise jose.exceptions.JWTClaimsError("not an access token")
    return claims


@dataclass(frozen=True)
class Consumer:
    verify: Callable[[str, Expected], dict[str, Any]]
    """The claims of a token the library accepts; one of `refusals` otherwise."""
    refusals: tuple[type[Exception], ...]


CONSUMERS = {
    "authlib": Consumer(_authlib, (AuthlibError,)),
    "joserfc": Consumer(_joserfc, (joserfc.errors.JoseError,)),
    "jwcrypto": Consumer(_jwcrypto, (jwcrypto.common.JWException,)),
    "PyJWKClient": Consumer(_pyjwkclient, (jwt.PyJWTError,)),
    "python-jose": Consumer(_python_jose, (jose.exceptions.JOSEError,)),
}


@pytest.fixture(params=list(CONSUMERS))
def consumer(request: pytest.FixtureRequest, authgate: Authgate) -> Consumer:
    if (
        request.param == "python-jose"
        and authgate.algorithm not in jose.constants.ALGORITHMS.SUPPORTED
    ):
        # A limit of the library, not of authgate: python-jose 3.x implements no EdDSA.
        pytest.skip(f"python-jose has no {authgate.algorithm} (not in its ALGORITHMS.SUPPORTED)")
    return CONSUMERS[request.param]


@pytest.fixture(scope="module")
def pair(authgate: Authgate) -> JwtPair:
    return authgate.jwt_pair("alice")


def _tampered(token: str) -> str:
    """`token` with its payload's `user_id` changed and its signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = str(int(claims["user_id"]) + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_verifies_access_token(consumer: Consumer, authgate: Authgate, pair: JwtPair) -> None:
    claims = consumer.verify(pair.access, Expected(authgate))
    assert claims["user_id"] == str(pair.user_id)
    assert (claims["token_type"], claims["aud"], claims["iss"]) == (ACCESS, AUDIENCE, ISSUER)


def test_refuses_tampered_token(consumer: Consumer, authgate: Authgate, pair: JwtPair) -> None:
    with pytest.raises(consumer.refusals):
        consumer.verify(_tampered(pair.access), Expected(authgate))


def test_tells_refresh_token_from_access_token(
    consumer: Consumer, authgate: Authgate, pair: JwtPair
) -> None:
    # Signed by the same key: only the `token_type` claim tells them apart.
    any_type = consumer.verify(pair.refresh, Expected(authgate, token_type=None))
    assert any_type["token_type"] == "refresh"
    with pytest.raises(consumer.refusals):
        consumer.verify(pair.refresh, Expected(authgate))


def test_refuses_token_for_another_audience(
    consumer: Consumer, authgate: Authgate, pair: JwtPair
) -> None:
    with pytest.raises(consumer.refusals):
        consumer.verify(pair.access, Expected(authgate, audience=OTHER_AUDIENCE))


def test_refuses_expired_token(consumer: Consumer, authgate: Authgate) -> None:
    expired = authgate.expired_pair("bob")
    with pytest.raises(consumer.refusals):
        consumer.verify(expired.access, Expected(authgate))


def test_refuses_token_from_another_issuer(
    consumer: Consumer, authgate: Authgate, pair: JwtPair
) -> None:
    with pytest.raises(consumer.refusals):
        consumer.verify(pair.access, Expected(authgate, issuer=OTHER_ISSUER))
