"""GET /.well-known/jwks.json over real HTTP, and RS256/EdDSA/Ed25519 tokens from
/auth/jwt/create/ that a third party verifies with nothing but the JWKS; the next key of a
rotation published before it signs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet
from jwcrypto import (
    jwk as jwcrypto_jwk,
    jwt as jwcrypto_jwt,
)

from authgate.core.jwt_keys import thumbprint
from tests.support import Api, rsa_key_files

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PASSWORD = "Correct-Horse-9"


def test_hmac_serves_an_empty_jwks(api: Api) -> None:
    response = api.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == {"keys": []}
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["content-type"] == "application/json"


def test_jwks_lists_the_current_and_retired_keys(serve: Callable[..., Api], tmp_path: Path) -> None:
    current, private, _ = rsa_key_files(tmp_path, "current")
    retired, _, retired_public = rsa_key_files(tmp_path, "retired")
    api = serve(
        jwt_algorithm="RS256",
        jwt_private_key_file=str(private),
        jwt_retired_public_key_files=(str(retired_public),),
    )
    response = api.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert len(keys) == 2
    for jwk, key in zip(keys, (current, retired), strict=True):
        numbers = key.public_key().public_numbers()
        public = pyjwt.PyJWK.from_dict(jwk).key
        assert public.public_numbers() == numbers
        assert set(jwk) == {"kty", "kid", "use", "alg", "n", "e"}
        assert (jwk["kty"], jwk["use"], jwk["alg"]) == ("RSA", "sig", "RS256")
        assert jwk["kid"] == thumbprint({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]})


def test_rs256_tokens_verify_with_the_jwks_key(serve: Callable[..., Api], tmp_path: Path) -> None:
    _, private, _ = rsa_key_files(tmp_path, "current")
    api = serve(jwt_algorithm="RS256", jwt_private_key_file=str(private))
    api.register("john")
    created = api.http.post("/auth/jwt/create/", json={"username": "john", "password": PASSWORD})
    assert created.status_code == 200
    pair = created.json()
    (jwk,) = api.http.get("/.well-known/jwks.json").json()["keys"]
    for name in ("refresh", "access"):
        header = pyjwt.get_unverified_header(pair[name])
        assert (header["alg"], header["kid"]) == ("RS256", jwk["kid"])
        key = pyjwt.PyJWKSet.from_dict({"keys": [jwk]})[header["kid"]]
        claims = pyjwt.decode(pair[name], key, algorithms=["RS256"])
        assert claims["token_type"] == name
    assert api.http.post("/auth/jwt/verify/", json={"token": pair["access"]}).json() == {}
    refreshed = api.http.post("/auth/jwt/refresh/", json={"refresh": pair["refresh"]})
    assert refreshed.status_code == 200
    assert pyjwt.decode(
        refreshed.json()["access"], pyjwt.PyJWK.from_dict(jwk), algorithms=["RS256"]
    )
    # Under RS256 an HS256 token is never a token of ours, whatever its key.
    forged = api.http.post(
        "/auth/jwt/verify/",
        json={"token": pyjwt.encode({"token_type": "access"}, "x" * 64, algorithm="HS256")},
    )
    assert forged.status_code == 401


def test_a_token_of_a_retired_key_verifies_until_the_key_is_removed(
    serve: Callable[..., Api], tmp_path: Path
) -> None:
    _, old_private, old_public = rsa_key_files(tmp_path, "old")
    _, new_private, _ = rsa_key_files(tmp_path, "new")
    before = serve(jwt_algorithm="RS256", jwt_private_key_file=str(old_private))
    before.register("john")
    old = before.http.post("/auth/jwt/create/", json={"username": "john", "password": PASSWORD})
    token = old.json()["access"]
    rotated = serve(
        jwt_algorithm="RS256",
        jwt_private_key_file=str(new_private),
        jwt_retired_public_key_files=(str(old_public),),
    )
    assert rotated.http.post("/auth/jwt/verify/", json={"token": token}).status_code == 200
    removed = serve(jwt_algorithm="RS256", jwt_private_key_file=str(new_private))
    assert removed.http.post("/auth/jwt/verify/", json={"token": token}).status_code == 401


def test_the_next_key_is_published_before_it_signs(
    serve: Callable[..., Api], tmp_path: Path
) -> None:
    """Step 1 of a rotation: the JWKS lists current, next, retired; the current key signs; and
    while instances switch one at a time, each accepts the other's tokens."""
    current, current_private, current_public = rsa_key_files(tmp_path, "current")
    upcoming, upcoming_private, upcoming_public = rsa_key_files(tmp_path, "next")
    retired, _, retired_public = rsa_key_files(tmp_path, "retired")
    published = serve(
        jwt_algorithm="RS256",
        jwt_private_key_file=str(current_private),
        jwt_next_public_key_files=(str(upcoming_public),),
        jwt_retired_public_key_files=(str(retired_public),),
    )
    response = published.http.get("/.well-known/jwks.json")
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert [pyjwt.PyJWK.from_dict(jwk).key.public_numbers() for jwk in keys] == [
        key.public_key().public_numbers() for key in (current, upcoming, retired)
    ]
    published.register("john")
    login = {"username": "john", "password": PASSWORD}
    before = published.http.post("/auth/jwt/create/", json=login).json()["access"]
    assert pyjwt.get_unverified_header(before)["kid"] == keys[0]["kid"]
    switched = serve(
        jwt_algorithm="RS256",
        jwt_private_key_file=str(upcoming_private),
        jwt_retired_public_key_files=(str(current_public),),
    )
    after = switched.http.post("/auth/jwt/create/", json=login).json()["access"]
    assert pyjwt.get_unverified_header(after)["kid"] == keys[1]["kid"]
    for api in (published, switched):
        for token in (before, after):
            assert api.http.post("/auth/jwt/verify/", json={"token": token}).status_code == 200


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")  # joserfc's word
@pytest.mark.parametrize("algorithm", ["Ed25519", "EdDSA"])
def test_ed25519_tokens_carry_the_configured_name(
    algorithm: str, serve: Callable[..., Api], tmp_path: Path
) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    private = tmp_path / "ed25519.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    api = serve(jwt_algorithm=algorithm, jwt_private_key_file=str(private))
    api.register("john")
    pair = api.http.post("/auth/jwt/create/", json={"username": "john", "password": PASSWORD})
    access = pair.json()["access"]
    jwks = api.http.get("/.well-known/jwks.json").json()
    (jwk,) = jwks["keys"]
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", algorithm)
    assert pyjwt.get_unverified_header(access)["alg"] == algorithm
    # joserfc and jwcrypto verify either name from the JWKS alone.
    checked = joserfc_jwt.decode(
        access, KeySet.import_key_set(cast(Any, jwks)), algorithms=[algorithm]
    )
    assert checked.claims["token_type"] == "access"
    jwcrypto_keys = jwcrypto_jwk.JWKSet.from_json(json.dumps(jwks))
    assert jwcrypto_jwt.JWT(jwt=access, key=jwcrypto_keys, algs=[algorithm]).claims
    assert api.http.post("/auth/jwt/verify/", json={"token": access}).status_code == 200
    if algorithm == "EdDSA":
        assert pyjwt.decode(access, pyjwt.PyJWK.from_dict(jwk), algorithms=["EdDSA"])
    else:
        # As docs/simplejwt.md says: PyJWT (PyJWKClient, SimpleJWT) cannot use an Ed25519 JWK
        # (jpadilla/pyjwt#1190). When this fails, PyJWT learnt it: update the docs' table.
        with pytest.raises(pyjwt.PyJWKSetError):
            pyjwt.PyJWKSet.from_dict(jwks)
