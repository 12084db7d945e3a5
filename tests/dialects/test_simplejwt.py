"""The SimpleJWT dialect over real HTTP: /auth/jwt/create/, refresh/ and verify/, answering
as SimpleJWT 5.5 does (checked against the reference stack)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt as pyjwt
import pytest

from tests.conftest import TEST_SECRET
from tests.support import Api

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PASSWORD = "Correct-Horse-9"
CHALLENGE = 'Bearer realm="api"'
INVALID = {"detail": "Token is invalid", "code": "token_not_valid"}


def _pair(api: Api, username: str = "john") -> dict[str, str]:
    api.register(username)
    response = api.http.post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    return dict(response.json())


def test_create_answers_a_refresh_and_an_access_token(api: Api) -> None:
    pair = _pair(api)
    assert list(pair) == ["refresh", "access"]
    user_id = api.http.get("/auth/users/me/", headers=api.as_user(api.login("john"))).json()["id"]
    for name in ("refresh", "access"):
        claims = pyjwt.decode(pair[name], TEST_SECRET, algorithms=["HS256"])
        assert claims["token_type"] == name
        assert claims["user_id"] == str(user_id)
        assert {"exp", "iat", "jti"} <= set(claims)
    assert pyjwt.get_unverified_header(pair["access"]) == {"alg": "HS256", "typ": "JWT"}


def test_create_failures_are_401_or_field_errors(api: Api) -> None:
    api.register("john")
    wrong = api.http.post("/auth/jwt/create/", json={"username": "john", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "No active account found with the given credentials"}
    assert wrong.headers["www-authenticate"] == CHALLENGE
    assert wrong.headers["allow"] == "POST, OPTIONS"
    unknown = api.http.post("/auth/jwt/create/", data={"username": "nobody", "password": "x"})
    assert (unknown.status_code, unknown.json()) == (401, wrong.json())
    russian = api.http.post(
        "/auth/jwt/create/",
        json={"username": "john", "password": "nope"},
        headers={"Accept-Language": "ru"},
    )
    assert russian.json() == {"detail": "Не найдено активной учетной записи с указанными данными"}
    missing = api.http.post("/auth/jwt/create/", json={})
    assert missing.status_code == 400
    assert missing.json() == {
        "username": ["This field is required."],
        "password": ["This field is required."],
    }
    blank = api.http.post("/auth/jwt/create/", json={"username": "", "password": " "})
    assert blank.json() == {
        "username": ["This field may not be blank."],
        "password": ["This field may not be blank."],
    }
    # A stale Authorization header is ignored (SimpleJWT's token views authenticate nobody).
    stale = api.http.post(
        "/auth/jwt/create/",
        json={"username": "john", "password": PASSWORD},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert stale.status_code == 200


def test_an_inactive_user_gets_no_tokens(serve: Callable[..., Api]) -> None:
    api = serve(send_activation_email=True)
    api.register("john", email="john@example.com")
    response = api.http.post("/auth/jwt/create/", json={"username": "john", "password": PASSWORD})
    assert response.status_code == 401


def test_login_by_email_takes_an_email_field(serve: Callable[..., Api]) -> None:
    api = serve(login_field="email")
    api.register("john", email="john@example.com")
    response = api.http.post(
        "/auth/jwt/create/", json={"email": "john@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert api.http.post("/auth/jwt/create/", json={}).json() == {
        "email": ["This field is required."],
        "password": ["This field is required."],
    }


def test_refresh_answers_an_access_token_and_the_refresh_token_stays_usable(api: Api) -> None:
    pair = _pair(api)
    for _ in range(2):
        response = api.http.post("/auth/jwt/refresh/", json={"refresh": pair["refresh"]})
        assert response.status_code == 200
        assert list(response.json()) == ["access"]
        claims = pyjwt.decode(response.json()["access"], TEST_SECRET, algorithms=["HS256"])
        assert claims["token_type"] == "access"


def test_refresh_errors_are_simplejwts(api: Api) -> None:
    pair = _pair(api)
    missing = api.http.post("/auth/jwt/refresh/", json={})
    assert (missing.status_code, missing.json()) == (400, {"refresh": ["This field is required."]})
    garbage = api.http.post("/auth/jwt/refresh/", json={"refresh": "abc"})
    assert (garbage.status_code, garbage.json()) == (401, INVALID)
    assert garbage.headers["www-authenticate"] == CHALLENGE
    access = api.http.post("/auth/jwt/refresh/", json={"refresh": pair["access"]})
    assert access.json() == {"detail": "Token has wrong type", "code": "token_not_valid"}
    russian = api.http.post(
        "/auth/jwt/refresh/", json={"refresh": pair["access"]}, headers={"Accept-Language": "ru"}
    )
    assert russian.json()["detail"] == "Токен имеет неправильный тип"
    claims = pyjwt.decode(pair["refresh"], TEST_SECRET, algorithms=["HS256"])
    expired = pyjwt.encode(claims | {"exp": claims["iat"] - 10}, TEST_SECRET, algorithm="HS256")
    response = api.http.post("/auth/jwt/refresh/", json={"refresh": expired})
    assert response.json() == {"detail": "Token is expired", "code": "token_not_valid"}
    forged = pyjwt.encode(claims, "another-key-that-is-long-enough-0123456789", algorithm="HS256")
    assert api.http.post("/auth/jwt/refresh/", json={"refresh": forged}).json() == INVALID


def test_rotation_answers_a_new_refresh_token_and_the_used_one_is_blacklisted(
    serve: Callable[..., Api],
) -> None:
    api = serve(jwt_rotate_refresh_tokens=True, jwt_refresh_reuse_interval_seconds=0)
    pair = _pair(api)
    rotated = api.http.post("/auth/jwt/refresh/", json={"refresh": pair["refresh"]})
    assert rotated.status_code == 200
    assert list(rotated.json()) == ["access", "refresh"]
    reused = api.http.post("/auth/jwt/refresh/", json={"refresh": pair["refresh"]})
    assert reused.status_code == 401
    assert reused.json() == {
        "detail": "This refresh token was already used; the session it belonged to has been"
        " ended for safety. Please log in again.",
        "code": "token_reused",
    }
    verified = api.http.post("/auth/jwt/verify/", json={"token": pair["refresh"]})
    assert (verified.status_code, verified.json()) == (
        400,
        {"non_field_errors": ["Token is blacklisted"]},
    )
    # The reuse revoked what the first refresh produced: whoever holds the copy loses too.
    successor = rotated.json()["refresh"]
    assert api.http.post("/auth/jwt/refresh/", json={"refresh": successor}).status_code == 401
    assert api.http.post("/auth/jwt/verify/", json={"token": successor}).status_code == 401


def test_verify_accepts_any_valid_token(api: Api) -> None:
    pair = _pair(api)
    for token in pair.values():
        response = api.http.post("/auth/jwt/verify/", json={"token": token})
        assert (response.status_code, response.json()) == (200, {})
    bad = api.http.post("/auth/jwt/verify/", json={"token": "x"})
    assert (bad.status_code, bad.json()) == (401, INVALID)
    assert api.http.post("/auth/jwt/verify/", json={}).json() == {
        "token": ["This field is required."]
    }
    # Without the trailing slash too, and with form bodies.
    assert api.http.post("/auth/jwt/verify", data={"token": pair["access"]}).status_code == 200


def test_a_password_change_or_deactivation_kills_the_users_jwts(api: Api) -> None:
    """CVE-2024-22513: SimpleJWT kept honouring these tokens."""
    pair = _pair(api)
    token = api.login("john")
    response = api.http.post(
        "/auth/users/set_password/",
        json={"new_password": "Brand-New-Horse-5", "current_password": PASSWORD},
        headers=api.as_user(token),
    )
    assert response.status_code == 204
    assert api.http.post("/auth/jwt/verify/", json={"token": pair["access"]}).json() == INVALID
    refreshed = api.http.post("/auth/jwt/refresh/", json={"refresh": pair["refresh"]})
    assert refreshed.status_code == 401
    assert refreshed.json() == {"detail": "No active account found for the given token."}
    fresh = api.http.post(
        "/auth/jwt/create/", json={"username": "john", "password": "Brand-New-Horse-5"}
    ).json()
    assert api.http.post("/auth/jwt/verify/", json={"token": fresh["access"]}).status_code == 200
    token = api.login("john", "Brand-New-Horse-5")
    deleted = api.http.request(
        "DELETE",
        "/auth/users/me/",
        json={"current_password": "Brand-New-Horse-5"},
        headers=api.as_user(token),
    )
    assert deleted.status_code == 204
    assert api.http.post("/auth/jwt/verify/", json={"token": fresh["access"]}).json() == INVALID


def test_method_and_options_answers_are_drfs(api: Api) -> None:
    wrong = api.http.get("/auth/jwt/verify/")
    assert (wrong.status_code, wrong.json()) == (405, {"detail": 'Method "GET" not allowed.'})
    options = api.http.options("/auth/jwt/refresh/")
    assert options.status_code == 200
    body: dict[str, Any] = options.json()
    assert body["name"] == "Token Refresh"
    assert body["actions"]["POST"]["refresh"] == {
        "type": "string",
        "required": True,
        "read_only": False,
        "label": "Refresh",
    }


def test_the_djoser_dialect_still_answers_beside_it(api: Api) -> None:
    api.register("john")
    token = api.login("john")
    assert api.http.get("/auth/users/me/", headers=api.as_user(token)).status_code == 200
    assert api.http.post("/auth/jwt/nothing/").status_code == 404


def test_rotation_chains_without_reuse(serve: Callable[..., Api]) -> None:
    api = serve(jwt_rotate_refresh_tokens=True)
    refresh = _pair(api)["refresh"]
    for _ in range(3):
        rotated = api.http.post("/auth/jwt/refresh/", json={"refresh": refresh})
        assert rotated.status_code == 200
        refresh = rotated.json()["refresh"]
