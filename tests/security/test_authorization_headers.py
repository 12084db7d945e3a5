"""Missing, garbled and duplicated Authorization headers on every dialect that reads one: each
is refused with the dialect's exact 401, and the refused request changes nothing."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.security.helpers import (
    COOKIE_JWT_INVALID_ACCESS,
    DRF_INVALID_TOKEN,
    DRF_NO_CREDENTIALS,
    PASSWORD,
    Account,
    Server,
    answer,
)

NO_SPACES = {"detail": "Invalid token header. Token string should not contain spaces."}
NO_CREDENTIALS_IN_HEADER = {"detail": "Invalid token header. No credentials provided."}
BAD_CHARACTERS = {
    "detail": "Invalid token header. Token string should not contain invalid characters."
}


def _still_works(server: Server, account: Account) -> None:
    """The account's token and record are as they were."""
    me = server.http.get("/auth/users/me/", headers=account.auth)
    assert answer(me) == (
        200,
        {"email": account.email, "id": account.id, "username": account.username},
    )


def _garbled(account: Account) -> dict[str, tuple[bytes, dict[str, str]]]:
    """Headers built from a valid token that must not authenticate, and DRF's answer to each."""
    token = account.token
    basic = base64.b64encode(f"{account.username}:{PASSWORD}".encode()).decode()
    return {
        "keyword only": (b"Token", NO_CREDENTIALS_IN_HEADER),
        "three parts": (f"Token {token} {token}".encode(), NO_SPACES),
        "comma joined": (f"Token {token},Token {token}".encode(), NO_SPACES),
        "truncated": (f"Token {token[:-1]}".encode(), DRF_INVALID_TOKEN),
        "extended": (f"Token {token}0".encode(), DRF_INVALID_TOKEN),
        "upper-cased token": (f"Token {token.upper()}".encode(), DRF_INVALID_TOKEN),
        "stored digest": (
            f"Token {hashlib.sha256(token.encode()).hexdigest()}".encode(),
            DRF_INVALID_TOKEN,
        ),
        "10k characters": (b"Token " + b"a" * 10_000, DRF_INVALID_TOKEN),
        "non-utf-8": (b"Token \xff\xfe" + token.encode(), BAD_CHARACTERS),
        "basic with the right password": (f"Basic {basic}".encode(), DRF_NO_CREDENTIALS),
        "keyword glued": (f"Token={token}".encode(), DRF_NO_CREDENTIALS),
        "unknown scheme": (f"Digest {token}".encode(), DRF_NO_CREDENTIALS),
    }


GARBLED = [
    "keyword only",
    "three parts",
    "comma joined",
    "truncated",
    "extended",
    "upper-cased token",
    "stored digest",
    "10k characters",
    "non-utf-8",
    "basic with the right password",
    "keyword glued",
    "unknown scheme",
]


def test_missing_header_on_every_dialect(server: Server) -> None:
    me = server.http.get("/auth/users/me/")
    assert answer(me) == (401, DRF_NO_CREDENTIALS)
    assert me.headers["www-authenticate"] == "Token"
    mounted = server.http.get("/api/v1/auth/users/me/")
    assert answer(mounted) == (401, DRF_NO_CREDENTIALS)
    check = server.http.post("/api/v1/check_token/", json={"username": "anyone"})
    assert answer(check) == (
        401,
        {
            "result": {"status": 401, "message": "Authentication credentials were not provided."},
            "data": {},
        },
    )
    secure = server.http.get("/u/api/secure_test/")
    assert answer(secure) == (401, {"detail": "Not authenticated"})
    assert secure.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("case", GARBLED)
def test_garbled_header_is_refused_by_djoser(server: Server, case: str) -> None:
    account = server.user("garble")
    header, expected = _garbled(account)[case]
    response = server.http.get("/auth/users/me/", headers=[(b"Authorization", header)])
    assert answer(response) == (401, expected)
    assert response.headers["www-authenticate"] == "Token"
    _still_works(server, account)


@pytest.mark.parametrize("case", ["three parts", "truncated", "stored digest", "non-utf-8"])
def test_garbled_header_cannot_log_out_or_change_the_password(server: Server, case: str) -> None:
    account = server.user("garbleout")
    header, expected = _garbled(account)[case]
    logout = server.http.post("/auth/token/logout/", headers=[(b"Authorization", header)])
    assert answer(logout) == (401, expected)
    changed = server.http.post(
        "/auth/users/set_password/",
        json={"new_password": "Another-Horse-7", "current_password": PASSWORD},
        headers=[(b"Authorization", header)],
    )
    assert answer(changed) == (401, expected)
    _still_works(server, account)
    assert server.api.login(account.username)  # the password did not change


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer " + "0" * 40,
        "Bearer ' OR '1'='1",
    ],
)
def test_garbled_header_is_refused_by_check_token(server: Server, header: str) -> None:
    account = server.user("garblecheck")
    response = server.http.post(
        "/api/v1/check_token/",
        json={"username": account.username},
        headers={"Authorization": header},
    )
    assert answer(response) == (
        401,
        {"result": {"status": 401, "message": "Invalid token."}, "data": {}},
    )
    _still_works(server, account)


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Basic abc", "Token {access}", "Bearer {access}x", "Bearer {opaque}"],
)
def test_garbled_header_is_refused_by_the_jwt_api(server: Server, header: str) -> None:
    account = server.user("garbleu")
    tokens = server.http.post(
        "/u/api/login/", json={"email": account.email, "password": PASSWORD}
    ).json()
    server.http.cookies.clear()
    value = header.format(access=tokens["access_token"], opaque=account.token)
    response = server.http.get("/u/api/secure_test/", headers={"Authorization": value})
    assert answer(response) == (401, COOKIE_JWT_INVALID_ACCESS)
    assert response.headers["www-authenticate"] == "Bearer"
    ok = server.http.get(
        "/u/api/secure_test/", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert answer(ok) == (200, {"message": "Successful secure test"})


def test_a_jwt_is_no_opaque_token(server: Server) -> None:
    account = server.user("jwtasopaque")
    pair = server.http.post(
        "/auth/jwt/create/", json={"username": account.username, "password": PASSWORD}
    ).json()
    for token in (pair["access"], pair["refresh"]):
        for keyword in ("Token", "Bearer"):
            response = server.http.get(
                "/auth/users/me/", headers={"Authorization": f"{keyword} {token}"}
            )
            assert answer(response) == (401, DRF_INVALID_TOKEN)
        check = server.http.post(
            "/api/v1/check_token/",
            json={"username": account.username},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer(check) == (
            401,
            {"result": {"status": 401, "message": "Invalid token."}, "data": {}},
        )


def test_an_opaque_token_is_no_jwt(server: Server) -> None:
    account = server.user("opaqueasjwt")
    verify = server.http.post("/auth/jwt/verify/", json={"token": account.token})
    assert answer(verify) == (401, {"detail": "Token is invalid", "code": "token_not_valid"})
    refresh = server.http.post("/u/api/refresh/", json={"refresh_token": account.token})
    assert answer(refresh) == (400, {"detail": "The refresh token is invalid or expired"})
    role = server.http.get(
        "/u/api/test_role/", headers={"Authorization": f"Bearer {account.token}"}
    )
    assert answer(role) == (401, COOKIE_JWT_INVALID_ACCESS)


# Duplicated headers: an ambiguous credential must be refused, whichever copy comes first
# (DRF behind a WSGI server sees the copies joined by a comma and refuses the lot).

DUPLICATE_REFUSALS = [DRF_INVALID_TOKEN, NO_SPACES, DRF_NO_CREDENTIALS]


def test_duplicated_header_junk_first_is_refused(server: Server) -> None:
    account = server.user("dupjunk")
    response = server.http.get(
        "/auth/users/me/",
        headers=[
            ("Authorization", "Token " + "0" * 40),
            ("Authorization", f"Token {account.token}"),
        ],
    )
    status, body = answer(response)
    assert status == 401
    assert body in DUPLICATE_REFUSALS
    _still_works(server, account)
