"""GET /.well-known/jwks.json over real HTTP, and RS256 tokens from /auth/jwt/create/ that a
third party verifies with nothing but the JWKS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jwt as pyjwt

from authgate.core.jwt_keys import thumbprint
from tests.support import Api, rsa_key_files

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
