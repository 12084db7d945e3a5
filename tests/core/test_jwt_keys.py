"""Asymmetric JWTs on the core: RS256/ES256/EdDSA, rotation by `kid`, and the keys a token must
never get to choose (core/jwt_keys.py, core/jwt.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from pydantic import ValidationError

from authgate.core import build_core
from authgate.core.jwt import JwtConfig, JwtError, Jwts
from authgate.core.jwt_keys import PrivateKey, load_key_ring, thumbprint
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store

SECRET = "s" * 64


def _rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _new_key(algorithm: str) -> PrivateKey:
    if algorithm == "RS256":
        return _rsa()
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def _private_pem(path: Path, key: Any) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _public_pem_bytes(key: Any) -> bytes:
    data: bytes = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def _public_pem(path: Path, key: Any) -> Path:
    path.write_bytes(_public_pem_bytes(key))
    return path


def _jwts(algorithm: str, private: Path, retired: tuple[Path, ...] = ()) -> Jwts:
    config = JwtConfig(
        algorithm=algorithm,
        key=SECRET,
        access_lifetime=timedelta(minutes=5),
        refresh_lifetime=timedelta(days=1),
        rotate_refresh_tokens=False,
        blacklist_after_rotation=True,
        keys=load_key_ring(algorithm, private, retired),
    )
    return Jwts(store=None, clock=None, config=config)  # type: ignore[arg-type]


def _claims() -> dict[str, Any]:
    now = int(time.time())
    return {"token_type": "access", "exp": now + 300, "iat": now, "jti": "0" * 32, "user_id": "1"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_round_trip_with_the_kid_of_the_current_key(algorithm: str, tmp_path: Path) -> None:
    key = _new_key(algorithm)
    jwts = _jwts(algorithm, _private_pem(tmp_path / "key.pem", key))
    token = jwts.encode(_claims())
    header = pyjwt.get_unverified_header(token)
    (jwk,) = jwts.jwks()["keys"]
    assert header["alg"] == algorithm
    assert header["kid"] == jwk["kid"]
    assert jwts.decode(token, "access")["user_id"] == "1"
    # Anyone holding the JWK verifies it with PyJWT alone.
    public = pyjwt.PyJWK.from_dict(jwk)
    assert pyjwt.decode(token, public, algorithms=[algorithm])["jti"] == "0" * 32
    # No kid: the current key checks it.
    bare = pyjwt.encode(_claims(), key, algorithm=algorithm)
    assert jwts.decode(bare, "access")["user_id"] == "1"


def test_the_kid_is_the_rfc_7638_thumbprint(tmp_path: Path) -> None:
    # RFC 7638 section 3.1's example key and thumbprint.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
        "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
        "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4"
        "vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    members = {"e": "AQAB", "kty": "RSA", "n": n}
    assert thumbprint(members) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    key = _rsa()
    (jwk,) = _jwts("RS256", _private_pem(tmp_path / "key.pem", key)).jwks()["keys"]
    assert jwk["kid"] == thumbprint({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]})
    assert list(jwk) == ["kty", "kid", "use", "alg", "e", "n"]
    assert (jwk["use"], jwk["alg"]) == ("sig", "RS256")


def test_a_retired_key_verifies_until_it_is_removed(tmp_path: Path) -> None:
    old, new = _rsa(), _rsa()
    old_jwts = _jwts("RS256", _private_pem(tmp_path / "old.pem", old))
    old_token = old_jwts.encode(_claims())
    new_pem = _private_pem(tmp_path / "new.pem", new)
    rotated = _jwts("RS256", new_pem, (_public_pem(tmp_path / "old.pub.pem", old),))
    assert rotated.decode(old_token, "access")["user_id"] == "1"
    new_token = rotated.encode(_claims())
    assert (
        pyjwt.get_unverified_header(new_token)["kid"]
        != pyjwt.get_unverified_header(old_token)["kid"]
    )
    assert [k["kid"] for k in rotated.jwks()["keys"]] == [
        pyjwt.get_unverified_header(new_token)["kid"],
        pyjwt.get_unverified_header(old_token)["kid"],
    ]
    # Old key removed: its tokens are refused, even without their kid.
    removed = _jwts("RS256", new_pem)
    with pytest.raises(JwtError):
        removed.decode(old_token, "access")
    with pytest.raises(JwtError):
        removed.decode(pyjwt.encode(_claims(), old, algorithm="RS256"), "access")
    assert removed.decode(new_token, "access")


def test_an_unknown_or_malformed_kid_is_refused(tmp_path: Path) -> None:
    key = _rsa()
    jwts = _jwts("RS256", _private_pem(tmp_path / "key.pem", key))
    unknown = pyjwt.encode(_claims(), key, algorithm="RS256", headers={"kid": "not-ours"})
    with pytest.raises(JwtError):
        jwts.decode(unknown, "access")
    # PyJWT will not write a non-string kid: sign one by hand.
    header = {"alg": "RS256", "typ": "JWT", "kid": 7}
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(_claims()).encode())
    rs256 = pyjwt.algorithms.RSAAlgorithm(pyjwt.algorithms.RSAAlgorithm.SHA256)
    signature = rs256.sign(signing_input.encode(), key)
    with pytest.raises(JwtError):
        jwts.decode(signing_input + "." + _b64(signature), "access")


def test_hmac_signed_with_the_public_key_is_refused(tmp_path: Path) -> None:
    """HS/RS confusion: an HS256 token whose HMAC key is the public key's PEM."""
    key = _rsa()
    jwts = _jwts("RS256", _private_pem(tmp_path / "key.pem", key))
    kid = jwts.jwks()["keys"][0]["kid"]
    for header in ({"alg": "HS256", "typ": "JWT"}, {"alg": "HS256", "typ": "JWT", "kid": kid}):
        signing_input = (
            _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(_claims()).encode())
        )
        signature = hmac.new(_public_pem_bytes(key), signing_input.encode(), hashlib.sha256)
        with pytest.raises(JwtError):
            jwts.decode(signing_input + "." + _b64(signature.digest()), "access")
    # And an RS256 configuration never accepts an HS256 token with the HMAC secret either.
    with pytest.raises(JwtError):
        jwts.decode(pyjwt.encode(_claims(), SECRET, algorithm="HS256"), "access")


def test_keys_offered_by_the_token_are_refused(tmp_path: Path) -> None:
    """An attacker signs with their own key and offers it in `jwk`/`jku`/`x5u`: refused,
    even when the kid is ours."""
    ours = _rsa()
    jwts = _jwts("RS256", _private_pem(tmp_path / "key.pem", ours))
    kid = jwts.jwks()["keys"][0]["kid"]
    theirs = _rsa()
    their_jwk = pyjwt.algorithms.RSAAlgorithm.to_jwk(theirs.public_key(), as_dict=True)
    for extra in (
        {"jwk": their_jwk},
        {"jku": "https://evil.example/jwks.json"},
        {"x5u": "https://evil.example/cert.pem"},
    ):
        forged = pyjwt.encode(_claims(), theirs, algorithm="RS256", headers={"kid": kid, **extra})
        with pytest.raises(JwtError):
            jwts.decode(forged, "access")
        # Even signed with our own key, a token naming a key source is refused.
        named = pyjwt.encode(_claims(), ours, algorithm="RS256", headers=extra)
        with pytest.raises(JwtError):
            jwts.decode(named, "access")


def test_another_algorithm_family_is_refused(tmp_path: Path) -> None:
    rs = _jwts("RS256", _private_pem(tmp_path / "rsa.pem", _rsa()))
    es_key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(JwtError):
        rs.decode(pyjwt.encode(_claims(), es_key, algorithm="ES256"), "access")
    with pytest.raises(JwtError):
        rs.decode(pyjwt.encode(_claims(), _rsa(), algorithm="RS512"), "access")


def test_keys_that_do_not_fit_refuse_to_start(tmp_path: Path) -> None:
    rsa_pem = _private_pem(tmp_path / "rsa.pem", _rsa())
    ec_pem = _private_pem(tmp_path / "ec.pem", ec.generate_private_key(ec.SECP256R1()))
    small = _private_pem(tmp_path / "small.pem", _rsa(1024))
    p384 = _private_pem(tmp_path / "p384.pem", ec.generate_private_key(ec.SECP384R1()))
    for algorithm, private, retired in (
        ("RS256", ec_pem, ()),
        ("ES256", rsa_pem, ()),
        ("EdDSA", rsa_pem, ()),
        ("RS256", small, ()),
        ("ES256", p384, ()),
        ("RS256", rsa_pem, (_public_pem(tmp_path / "small.pub", _rsa(1024)),)),
        ("RS256", rsa_pem, (ec_pem,)),
        ("HS256", rsa_pem, ()),
    ):
        with pytest.raises(ValueError, match="key"):
            load_key_ring(algorithm, private, retired)


def test_settings_refuse_mismatched_key_configuration(tmp_path: Path) -> None:
    pem = _private_pem(tmp_path / "key.pem", _rsa())
    for values in (
        {"jwt_algorithm": "RS256"},
        {"jwt_algorithm": "RS256", "jwt_private_key_file": pem, "jwt_signing_key": SECRET},
        {"jwt_algorithm": "HS256", "jwt_private_key_file": pem},
        {"jwt_algorithm": "HS256", "jwt_retired_public_key_files": (pem,)},
        {"jwt_algorithm": "RS512", "jwt_private_key_file": pem},
    ):
        with pytest.raises(ValidationError):
            Settings(secret_key=SECRET, _env_file=None, **values)


def test_startup_refuses_a_small_rsa_key(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        secret_key=SECRET,
        jwt_algorithm="RS256",
        jwt_private_key_file=_private_pem(tmp_path / "small.pem", _rsa(1024)),
        _env_file=None,
    )
    with pytest.raises(ValueError, match="2048"):
        build_core(settings, open_store(settings.database_url), LogMailer())


def test_hmac_has_no_kid_and_an_empty_jwks() -> None:
    config = JwtConfig(
        algorithm="HS256",
        key=SECRET,
        access_lifetime=timedelta(minutes=5),
        refresh_lifetime=timedelta(days=1),
        rotate_refresh_tokens=False,
        blacklist_after_rotation=True,
    )
    jwts = Jwts(store=None, clock=None, config=config)  # type: ignore[arg-type]
    token = jwts.encode(_claims())
    assert pyjwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert jwts.jwks() == {"keys": []}
    # A kid is not looked at with HMAC (SimpleJWT never writes one).
    with_kid = pyjwt.encode(_claims(), SECRET, algorithm="HS256", headers={"kid": "x"})
    assert jwts.decode(with_kid, "access")["user_id"] == "1"
