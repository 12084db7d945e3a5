"""Asymmetric JWTs on the core: RS256/ES256/EdDSA/Ed25519, rotation by `kid` (next and retired
keys), and the keys a token must never get to choose (core/jwt_keys.py, core/jwt.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import KeySet
from jwcrypto import jwk as jwcrypto_jwk, jwt as jwcrypto_jwt
from pydantic import ValidationError

from authgate.composition import build_core
from authgate.core.errors import JwtError
from authgate.core.jwt import JwtConfig, Jwts
from authgate.core.jwt_keys import PrivateKey, load_key_ring, thumbprint
from authgate.mailer import LogMailer
from authgate.settings import ConfigurationError, Settings
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


# Next keys (AUTHGATE_JWT_NEXT_PUBLIC_KEY_FILES) and the Ed25519 name (RFC 9864)


def test_next_keys_are_published_before_they_sign_and_verify(tmp_path: Path) -> None:
    current, upcoming, old = _rsa(), _rsa(), _rsa()
    jwts = _jwts_with(
        "RS256",
        _private_pem(tmp_path / "current.pem", current),
        retired=(_public_pem(tmp_path / "old.pub.pem", old),),
        next_keys=(_public_pem(tmp_path / "next.pub.pem", upcoming),),
    )
    kids = [key["kid"] for key in jwts.jwks()["keys"]]
    assert len(kids) == 3
    # Still signed with the current key; the JWKS lists it first, then the next, then retired.
    assert pyjwt.get_unverified_header(jwts.encode(_claims()))["kid"] == kids[0]
    upcoming_kid = _jwts("RS256", _private_pem(tmp_path / "n.pem", upcoming)).jwks()["keys"][0]
    assert kids[1] == upcoming_kid["kid"]
    # A token an instance already switched to the next key signs verifies here too.
    switched = pyjwt.encode(_claims(), upcoming, algorithm="RS256", headers={"kid": kids[1]})
    assert jwts.decode(switched, "access")["user_id"] == "1"
    retired = pyjwt.encode(_claims(), old, algorithm="RS256", headers={"kid": kids[2]})
    assert jwts.decode(retired, "access")["user_id"] == "1"


def _jwts_with(
    algorithm: str,
    private: Path,
    *,
    retired: tuple[Path, ...] = (),
    next_keys: tuple[Path, ...] = (),
) -> Jwts:
    config = JwtConfig(
        algorithm=algorithm,
        key=SECRET,
        access_lifetime=timedelta(minutes=5),
        refresh_lifetime=timedelta(days=1),
        rotate_refresh_tokens=False,
        blacklist_after_rotation=True,
        keys=load_key_ring(algorithm, private, retired, next_keys),
    )
    return Jwts(store=None, clock=None, config=config)  # type: ignore[arg-type]


def test_next_key_misconfigurations_are_one_line_naming_the_setting(tmp_path: Path) -> None:
    key, retired = _rsa(), _rsa()
    private = _private_pem(tmp_path / "key.pem", key)
    retired_pub = _public_pem(tmp_path / "retired.pub.pem", retired)
    fresh = _public_pem(tmp_path / "fresh.pub.pem", _rsa())
    (tmp_path / "garbage.pem").write_text("not a key")
    cases = [
        ((_public_pem(tmp_path / "same.pub.pem", key),), "is the current signing key"),
        ((private,), "is the current signing key"),  # a private PEM gives its public half
        ((retired_pub,), "is also a retired key"),
        ((fresh, _public_pem(tmp_path / "twin.pub.pem", _public_twin(fresh))), "a key twice"),
        (
            (_public_pem(tmp_path / "ec.pub.pem", ec.generate_private_key(ec.SECP256R1())),),
            "not a key for JWT algorithm RS256",
        ),
        ((_public_pem(tmp_path / "small.pub.pem", _rsa(1024)),), "at least 2048 bits"),
        ((tmp_path / "missing.pem",), "cannot read"),
        ((tmp_path / "garbage.pem",), "is not a PEM public key"),
    ]
    for next_keys, rule in cases:
        with pytest.raises(ConfigurationError) as refused:
            load_key_ring("RS256", private, (retired_pub,), next_keys)
        message = str(refused.value)
        assert message.startswith("AUTHGATE_JWT_NEXT_PUBLIC_KEY_FILES: "), message
        assert "\n" not in message
        assert rule in message, message
    # HMAC takes no next keys either.
    with pytest.raises(ValidationError, match="take no key files"):
        Settings(
            secret_key=SECRET,
            _env_file=None,
            jwt_algorithm="HS256",
            jwt_next_public_key_files=(fresh,),
        )


def _public_twin(public_pem: Path) -> Any:
    """An object whose public_key() is the key of `public_pem` (a second file, same key)."""
    loaded = serialization.load_pem_public_key(public_pem.read_bytes())

    class Twin:
        def public_key(self) -> Any:
            return loaded

    return Twin()


@pytest.mark.slow
def test_a_bad_next_key_stops_a_command_in_one_line(tmp_path: Path) -> None:
    key = _rsa()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")} | {
        "AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "AUTHGATE_JWT_ALGORITHM": "RS256",
        "AUTHGATE_JWT_PRIVATE_KEY_FILE": str(_private_pem(tmp_path / "key.pem", key)),
        "AUTHGATE_JWT_NEXT_PUBLIC_KEY_FILES": str(_public_pem(tmp_path / "same.pub", key)),
        "AUTHGATE_SUPERUSER_PASSWORD": "Root-Pass-123",
    }
    command = [sys.executable, "-m", "authgate"]
    run = partial(subprocess.run, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert run([*command, "migrate"], timeout=60).returncode == 0
    done = run(
        [*command, "createsuperuser", "--no-input", "--username", "root", "--email", "r@x.io"],
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"Error: AUTHGATE_JWT_NEXT_PUBLIC_KEY_FILES: {tmp_path / 'same.pub'} is the current"
        " signing key; list keys that do not sign yet (once a next key signs, take it out of"
        " AUTHGATE_JWT_NEXT_PUBLIC_KEY_FILES)"
    ]


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")  # joserfc's word
@pytest.mark.parametrize(("configured", "other"), [("Ed25519", "EdDSA"), ("EdDSA", "Ed25519")])
def test_ed25519_is_eddsa_by_its_rfc_9864_name(configured: str, other: str, tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    jwts = _jwts(configured, _private_pem(tmp_path / "key.pem", key))
    token = jwts.encode(_claims())
    (jwk,) = jwts.jwks()["keys"]
    assert pyjwt.get_unverified_header(token)["alg"] == configured
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", configured)
    assert jwts.decode(token, "access")["user_id"] == "1"
    # Libraries that know RFC 9864 verify it with the JWK alone.
    key_set = KeySet.import_key_set(cast(Any, {"keys": [jwk]}))
    checked = joserfc_jwt.decode(token, key_set, [configured])
    assert checked.claims["user_id"] == "1"
    jwcrypto_keys = jwcrypto_jwk.JWKSet.from_json(json.dumps({"keys": [jwk]}))
    assert jwcrypto_jwt.JWT(jwt=token, key=jwcrypto_keys, algs=[configured]).claims
    # The other name of the same signature is accepted (renaming the setting ends nothing).
    renamed = pyjwt.encode(_claims(), key, algorithm=other, headers={"kid": jwk["kid"]})
    assert jwts.decode(renamed, "access")["user_id"] == "1"
    # Another Ed25519 key is not ours under either name.
    stranger = ed25519.Ed25519PrivateKey.generate()
    for name in (configured, other):
        with pytest.raises(JwtError):
            jwts.decode(pyjwt.encode(_claims(), stranger, algorithm=name), "access")


def test_ed25519_takes_ed25519_keys_only(tmp_path: Path) -> None:
    for key in (ed448.Ed448PrivateKey.generate(), _rsa(), ec.generate_private_key(ec.SECP256R1())):
        pem = _private_pem(tmp_path / "key.pem", key)
        with pytest.raises(ConfigurationError, match="AUTHGATE_JWT_PRIVATE_KEY_FILE"):
            load_key_ring("Ed25519", pem)
    # PyJWT's EdDSA takes Ed448 too; the Ed25519 name authgate registers does not.
    with pytest.raises(pyjwt.InvalidKeyError):
        pyjwt.encode(_claims(), ed448.Ed448PrivateKey.generate(), algorithm="Ed25519")
