"""Forged and doctored JWTs against both JWT dialects (/auth/jwt/ and /u/api/), on an HMAC
server and on an RS256 one: each is refused with the dialect's exact answer, no key is ever
fetched from where a token points, and the genuine tokens keep working."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.conftest import TEST_SECRET
from tests.security.helpers import (
    COOKIE_JWT_INVALID_ACCESS,
    COOKIE_JWT_INVALID_REFRESH,
    PASSWORD,
    SIMPLEJWT_INVALID,
    Server,
    answer,
    b64url,
    compact,
    jwt_parts,
    module_server,
)

EXPIRED = {"detail": "Token is expired", "code": "token_not_valid"}
WRONG_TYPE = {"detail": "Token has wrong type", "code": "token_not_valid"}
AUDIENCE = "https://api.example.com"
ISSUER = "https://auth.example.com"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_server(
    tmp_path_factory: pytest.TempPathFactory, rsa_key: rsa.RSAPrivateKey
) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("rs256")
    pem = directory / "jwt.pem"
    pem.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with module_server(directory, jwt_algorithm="RS256", jwt_private_key_file=pem) as running:
        yield running


@pytest.fixture(scope="module")
def claims_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that writes and requires an audience and an issuer."""
    with module_server(
        tmp_path_factory.mktemp("audience"), jwt_audience=AUDIENCE, jwt_issuer=ISSUER
    ) as running:
        yield running


@pytest.fixture(scope="module")
def key_host() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server an attacker would point `jku`/`x5u` at; records every request."""
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"keys": []}')

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    finally:
        httpd.shutdown()


# tokens


def _simplejwt_pair(server: Server) -> tuple[int, dict[str, str]]:
    """(user id, SimpleJWT pair) of a new user."""
    account = server.user("jwt")
    response = server.http.post(
        "/auth/jwt/create/", json={"username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return account.id, dict(response.json())


def _cookie_jwt_pair(server: Server) -> tuple[int, dict[str, str]]:
    """(user id, /u/api/ tokens) of a new user."""
    account = server.user("cookie_jwt")
    response = server.http.post(
        "/u/api/login/", json={"email": account.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    server.http.cookies.clear()
    return account.id, dict(response.json())


def _hs256(
    header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: Any = hashlib.sha256
) -> str:
    """An HMAC token signed by hand (no library refuses a key or a header here)."""
    unsigned = compact(header, claims, "").rstrip(".")
    signature = hmac.new(key, unsigned.encode(), digest).digest()
    return f"{unsigned}.{b64url(signature)}"


def _rs256(header: dict[str, Any], claims: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    """An RS256 token signed by hand with `key`, whatever its header says."""
    full = {"alg": "RS256", "typ": "JWT"} | {
        k: v for k, v in header.items() if k not in ("alg", "typ")
    }
    unsigned = compact(full, claims, "").rstrip(".")
    signature = key.sign(unsigned.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{unsigned}.{b64url(signature)}"


def _verify(server: Server, token: str) -> tuple[int, Any]:
    return answer(server.http.post("/auth/jwt/verify/", json={"token": token}))


def _secure(server: Server, token: str) -> tuple[int, Any]:
    response = server.http.get("/u/api/secure_test/", headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    return answer(response)


def _genuine_still_work(server: Server, simplejwt: str, cookie_jwt: str) -> None:
    assert _verify(server, simplejwt) == (200, {})
    assert _secure(server, cookie_jwt) == (200, {"message": "Successful secure test"})


Forge = Callable[[dict[str, Any], dict[str, Any], str], str]
"""(header, claims, original signature) of a genuine access token -> a forged token."""


def _tampered_signature(header: dict[str, Any], claims: dict[str, Any], signature: str) -> str:
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return compact(header, claims, signature[:middle] + flipped + signature[middle + 1 :])


def _tampered_payload(header: dict[str, Any], claims: dict[str, Any], signature: str) -> str:
    # Speak for a neighbour (another user, who exists), with the genuine signature of the
    # token's own claims.
    own = int(claims["user_id"])
    return compact(header, claims | {"user_id": str(own - 1 if own > 1 else own + 1)}, signature)


HMAC_FORGERIES: dict[str, Forge] = {
    "alg none": lambda h, c, s: compact(h | {"alg": "none"}, c, ""),
    "alg None": lambda h, c, s: compact(h | {"alg": "None"}, c, ""),
    "alg none with the genuine signature": lambda h, c, s: compact(h | {"alg": "none"}, c, s),
    "signature stripped": lambda h, c, s: compact(h, c, ""),
    "tampered signature": _tampered_signature,
    "tampered payload": _tampered_payload,
    "elevated claims": lambda h, c, s: compact(h, c | {"is_staff": True, "role": "ADMIN"}, s),
    "another algorithm with our key": lambda h, c, s: _hs256(
        h | {"alg": "HS512"}, c, TEST_SECRET.encode(), hashlib.sha512
    ),
    "guessed key": lambda h, c, s: _hs256(h, c, b"secret"),
    "empty key": lambda h, c, s: _hs256(h, c, b""),
    "kid path traversal with an empty key": lambda h, c, s: _hs256(
        h | {"kid": "../../../../../../dev/null"}, c, b""
    ),
    "kid sql injection": lambda h, c, s: _hs256(
        h | {"kid": "x' UNION SELECT 'attacker-key' -- "}, c, b"attacker-key"
    ),
    "crit header": lambda h, c, s: pyjwt.encode(
        c, TEST_SECRET, algorithm="HS256", headers={"crit": ["exp"]}
    ),
    "jku header with our key": lambda h, c, s: pyjwt.encode(
        c, TEST_SECRET, algorithm="HS256", headers={"jku": "https://evil.example/jwks.json"}
    ),
}


@pytest.mark.parametrize("attack", list(HMAC_FORGERIES))
def test_forged_tokens_are_refused_by_both_dialects(server: Server, attack: str) -> None:
    forge = HMAC_FORGERIES[attack]
    _, simplejwt = _simplejwt_pair(server)
    _, cookie_jwt = _cookie_jwt_pair(server)
    forged = forge(*jwt_parts(simplejwt["access"]))
    assert _verify(server, forged) == (401, SIMPLEJWT_INVALID)
    forged_cookie_jwt = forge(*jwt_parts(cookie_jwt["access_token"]))
    assert _secure(server, forged_cookie_jwt) == (401, COOKIE_JWT_INVALID_ACCESS)
    _genuine_still_work(server, simplejwt["access"], cookie_jwt["access_token"])


def test_tampered_refresh_token_mints_nothing(server: Server) -> None:
    _, simplejwt = _simplejwt_pair(server)
    forged = _tampered_payload(*jwt_parts(simplejwt["refresh"]))
    response = server.http.post("/auth/jwt/refresh/", json={"refresh": forged})
    assert answer(response) == (401, SIMPLEJWT_INVALID)
    _, cookie_jwt = _cookie_jwt_pair(server)
    forged_cookie_jwt = _tampered_payload(*jwt_parts(cookie_jwt["refresh_token"]))
    refused = server.http.post("/u/api/refresh/", json={"refresh_token": forged_cookie_jwt})
    assert answer(refused) == (400, COOKIE_JWT_INVALID_REFRESH)
    assert "set-cookie" not in refused.headers
    # The genuine refresh tokens were not spent by the forgeries.
    ok = server.http.post("/u/api/refresh/", json={"refresh_token": cookie_jwt["refresh_token"]})
    assert ok.status_code == 200
    assert server.http.post("/auth/jwt/refresh/", json={"refresh": simplejwt["refresh"]}).is_success


# claims that are signed with the right key but must not pass


def _resigned(token: str, **changes: Any) -> str:
    _, claims, _ = jwt_parts(token)
    claims = claims | changes
    for name in [k for k, v in changes.items() if v is None]:
        del claims[name]
    return pyjwt.encode(claims, TEST_SECRET, algorithm="HS256")


def test_expired_token_is_refused(server: Server) -> None:
    _, pair = _simplejwt_pair(server)
    past = int(time.time()) - 10
    assert _verify(server, _resigned(pair["access"], exp=past)) == (401, EXPIRED)
    refreshed = server.http.post(
        "/auth/jwt/refresh/", json={"refresh": _resigned(pair["refresh"], exp=past)}
    )
    assert answer(refreshed) == (401, EXPIRED)
    _, cookie_jwt = _cookie_jwt_pair(server)
    assert _secure(server, _resigned(cookie_jwt["access_token"], exp=past)) == (
        401,
        COOKIE_JWT_INVALID_ACCESS,
    )


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        pytest.param({"nbf": int(time.time()) + 3600}, "Token is invalid", id="not yet valid"),
        pytest.param({"iat": int(time.time()) + 3600}, "Token is invalid", id="issued later"),
        pytest.param({"aud": "another-service"}, "Token is invalid", id="unexpected audience"),
        pytest.param({"iss": "https://evil.example"}, "Token is invalid", id="unexpected issuer"),
        pytest.param({"exp": None}, "Token has no 'exp' claim", id="no exp"),
        pytest.param({"jti": None}, "Token has no id", id="no jti"),
        pytest.param({"user_id": "1 OR 1=1"}, "Token is invalid", id="user_id injection"),
        pytest.param({"user_id": True}, "Token is invalid", id="user_id true"),
        pytest.param({"ver": "0"}, "Token is invalid", id="ver as text"),
        pytest.param({"ver": 7}, "Token is invalid", id="ver from the future"),
    ],
)
def test_resigned_claims_are_refused(server: Server, changes: dict[str, Any], detail: str) -> None:
    """Signed with the right key, and still not acceptable."""
    _, pair = _simplejwt_pair(server)
    _, cookie_jwt = _cookie_jwt_pair(server)
    verified = _verify(server, _resigned(pair["access"], **changes))
    assert verified == (401, {"detail": detail, "code": "token_not_valid"})
    assert _secure(server, _resigned(cookie_jwt["access_token"], **changes)) == (
        401,
        COOKIE_JWT_INVALID_ACCESS,
    )
    _genuine_still_work(server, pair["access"], cookie_jwt["access_token"])


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": "another-service"}, id="wrong audience"),
        pytest.param({"aud": None}, id="no audience"),
        pytest.param({"iss": "https://evil.example"}, id="wrong issuer"),
        pytest.param({"iss": None}, id="no issuer"),
    ],
)
def test_audience_and_issuer_are_required_when_configured(
    claims_server: Server, changes: dict[str, Any]
) -> None:
    _, pair = _simplejwt_pair(claims_server)
    claims = jwt_parts(pair["access"])[1]
    assert (claims["aud"], claims["iss"]) == (AUDIENCE, ISSUER)
    assert _verify(claims_server, _resigned(pair["access"], **changes)) == (401, SIMPLEJWT_INVALID)
    refresh = _resigned(pair["refresh"], **changes)
    refused = claims_server.http.post("/auth/jwt/refresh/", json={"refresh": refresh})
    assert answer(refused) == (401, SIMPLEJWT_INVALID)
    assert _verify(claims_server, pair["access"]) == (200, {})


# token types


def test_refresh_token_is_no_access_token(server: Server) -> None:
    _, cookie_jwt = _cookie_jwt_pair(server)
    assert _secure(server, cookie_jwt["refresh_token"]) == (401, COOKIE_JWT_INVALID_ACCESS)
    role = server.http.get(
        "/u/api/test_role/", headers={"Authorization": f"Bearer {cookie_jwt['refresh_token']}"}
    )
    assert answer(role) == (401, COOKIE_JWT_INVALID_ACCESS)
    # Nor was it spent by being shown: it still refreshes, once.
    ok = server.http.post("/u/api/refresh/", json={"refresh_token": cookie_jwt["refresh_token"]})
    assert ok.status_code == 200


def test_access_token_is_no_refresh_token(server: Server) -> None:
    _, pair = _simplejwt_pair(server)
    response = server.http.post("/auth/jwt/refresh/", json={"refresh": pair["access"]})
    assert answer(response) == (401, WRONG_TYPE)
    _, cookie_jwt = _cookie_jwt_pair(server)
    refused = server.http.post(
        "/u/api/refresh/", json={"refresh_token": cookie_jwt["access_token"]}
    )
    assert answer(refused) == (400, COOKIE_JWT_INVALID_REFRESH)
    by_header = server.http.post(
        "/u/api/refresh/", headers={"Authorization": f"Bearer {cookie_jwt['access_token']}"}
    )
    assert answer(by_header) == (400, COOKIE_JWT_INVALID_REFRESH)
    assert _secure(server, cookie_jwt["access_token"]) == (
        200,
        {"message": "Successful secure test"},
    )


def test_access_token_relabelled_as_refresh_is_refused(server: Server) -> None:
    """An access token whose `token_type` is rewritten (keeping its signature) mints nothing."""
    _, pair = _simplejwt_pair(server)
    header, claims, signature = jwt_parts(pair["access"])
    relabelled = compact(header, claims | {"token_type": "refresh"}, signature)
    response = server.http.post("/auth/jwt/refresh/", json={"refresh": relabelled})
    assert answer(response) == (401, SIMPLEJWT_INVALID)


def test_tokens_do_not_cross_between_the_jwt_dialects(server: Server) -> None:
    """/u/api/ tokens carry their own audience: neither dialect takes the other's."""
    _, simplejwt = _simplejwt_pair(server)
    _, cookie_jwt = _cookie_jwt_pair(server)
    assert _secure(server, simplejwt["access"]) == (401, COOKIE_JWT_INVALID_ACCESS)
    for refresh in (simplejwt["refresh"], simplejwt["access"]):
        crossed = server.http.post("/u/api/refresh/", json={"refresh_token": refresh})
        assert answer(crossed) == (400, COOKIE_JWT_INVALID_REFRESH)
    for token in (cookie_jwt["access_token"], cookie_jwt["refresh_token"]):
        assert _verify(server, token) == (401, SIMPLEJWT_INVALID)
    crossed = server.http.post("/auth/jwt/refresh/", json={"refresh": cookie_jwt["refresh_token"]})
    assert answer(crossed) == (401, SIMPLEJWT_INVALID)
    # None of that spent the /u/api/ refresh token.
    ok = server.http.post("/u/api/refresh/", json={"refresh_token": cookie_jwt["refresh_token"]})
    assert ok.status_code == 200


# RS256: the keys a token must never get to choose


def _public_pem(key: rsa.RSAPrivateKey) -> bytes:
    pem: bytes = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


def _certificate(key: rsa.RSAPrivateKey) -> str:
    """A self-signed certificate of the attacker's key, base64 DER (an `x5c` entry)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    import base64

    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def _rsa_forgeries(
    rsa_key: rsa.RSAPrivateKey, attacker: rsa.RSAPrivateKey, key_url: str
) -> dict[str, Callable[[dict[str, Any], dict[str, Any]], str]]:
    attacker_jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    return {
        "hs256 signed with the public pem": lambda h, c: _hs256(
            {"alg": "HS256", "typ": "JWT"}, c, _public_pem(rsa_key)
        ),
        "hs256 signed with the public pem and our kid": lambda h, c: _hs256(
            {"alg": "HS256", "typ": "JWT", "kid": h["kid"]}, c, _public_pem(rsa_key)
        ),
        "attacker key with our kid": lambda h, c: _rs256(h, c, attacker),
        "attacker key without kid": lambda h, c: _rs256({}, c, attacker),
        "unknown kid": lambda h, c: _rs256({"kid": "not-a-key-of-ours"}, c, attacker),
        "kid path traversal": lambda h, c: _rs256({"kid": "../../../../etc/passwd"}, c, attacker),
        "kid sql injection": lambda h, c: _rs256({"kid": "' OR '1'='1' --"}, c, attacker),
        "kid not a string": lambda h, c: _rs256({"kid": {"$ne": None}}, c, rsa_key),
        "embedded jwk": lambda h, c: _rs256({"jwk": attacker_jwk}, c, attacker),
        "jku": lambda h, c: _rs256({"jku": f"{key_url}/jwks.json"}, c, attacker),
        "x5u": lambda h, c: _rs256({"x5u": f"{key_url}/cert.pem"}, c, attacker),
        "x5c": lambda h, c: _rs256({"x5c": [_certificate(attacker)]}, c, attacker),
        "jku with our own key": lambda h, c: _rs256(
            {"kid": h["kid"], "jku": f"{key_url}/jwks.json"}, c, rsa_key
        ),
        "alg none": lambda h, c: compact({"alg": "none", "typ": "JWT"}, c, ""),
    }


RSA_ATTACKS = [
    "hs256 signed with the public pem",
    "hs256 signed with the public pem and our kid",
    "attacker key with our kid",
    "attacker key without kid",
    "unknown kid",
    "kid path traversal",
    "kid sql injection",
    "kid not a string",
    "embedded jwk",
    "jku",
    "x5u",
    "x5c",
    "jku with our own key",
    "alg none",
]


@pytest.mark.parametrize("attack", RSA_ATTACKS)
def test_rs256_forgeries_are_refused(
    rsa_server: Server,
    rsa_key: rsa.RSAPrivateKey,
    attacker_key: rsa.RSAPrivateKey,
    key_host: tuple[str, list[str]],
    attack: str,
) -> None:
    key_url, fetched = key_host
    forge = _rsa_forgeries(rsa_key, attacker_key, key_url)[attack]
    _, pair = _simplejwt_pair(rsa_server)
    header, claims, _ = jwt_parts(pair["access"])
    assert header["alg"] == "RS256"
    assert _verify(rsa_server, forge(header, claims)) == (401, SIMPLEJWT_INVALID)
    refresh_header, refresh_claims, _ = jwt_parts(pair["refresh"])
    forged_refresh = forge(refresh_header, refresh_claims)
    refused = rsa_server.http.post("/auth/jwt/refresh/", json={"refresh": forged_refresh})
    assert answer(refused) == (401, SIMPLEJWT_INVALID)
    _, cookie_jwt = _cookie_jwt_pair(rsa_server)
    cookie_jwt_header, cookie_jwt_claims, _ = jwt_parts(cookie_jwt["access_token"])
    assert _secure(rsa_server, forge(cookie_jwt_header, cookie_jwt_claims)) == (
        401,
        COOKIE_JWT_INVALID_ACCESS,
    )
    assert fetched == []  # no key was fetched from where the token pointed
    _genuine_still_work(rsa_server, pair["access"], cookie_jwt["access_token"])


def test_rs256_jwks_serves_only_the_public_key(
    rsa_server: Server, rsa_key: rsa.RSAPrivateKey
) -> None:
    response = rsa_server.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (jwk,) = response.json()["keys"]
    assert set(jwk) == {"kty", "kid", "use", "alg", "e", "n"}  # no "d", "p", "q": no private part
    public = pyjwt.PyJWK.from_dict(jwk)
    _, pair = _simplejwt_pair(rsa_server)
    assert pyjwt.decode(pair["access"], public, algorithms=["RS256"])["token_type"] == "access"
    assert httpx.Response(200).status_code == 200
