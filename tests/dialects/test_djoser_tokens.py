"""Token login, logout and the Authorization header, over HTTP, as Djoser/DRF answer them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.support import Api, ShiftedClock

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire


def test_token_login_answers_a_40_hex_token(api: Api) -> None:
    api.register("john")
    response = api.http.post(
        "/auth/token/login/", json={"username": "john", "password": "Correct-Horse-9"}
    )
    assert response.status_code == 200
    assert list(response.json()) == ["auth_token"]
    assert re.fullmatch(r"[0-9a-f]{40}", response.json()["auth_token"])


def test_each_login_gets_its_own_token_and_logout_revokes_only_that_one(api: Api) -> None:
    api.register("john")
    phone, laptop = api.login("john"), api.login("john")
    assert phone != laptop
    assert api.http.post("/auth/token/logout/", headers=api.as_user(phone)).status_code == 204
    assert api.http.get("/auth/users/me/", headers=api.as_user(phone)).status_code == 401
    assert api.http.get("/auth/users/me/", headers=api.as_user(laptop)).status_code == 200


def test_logout_all_revokes_every_token_of_the_user(api: Api) -> None:
    api.register("john")
    api.register("mary")
    phone, laptop, other = api.login("john"), api.login("john"), api.login("mary")
    response = api.http.post("/auth/token/logout_all/", headers=api.as_user(phone))
    assert response.status_code == 204
    assert response.content == b""
    for token in (phone, laptop):
        assert api.http.get("/auth/users/me/", headers=api.as_user(token)).status_code == 401
    assert api.http.get("/auth/users/me/", headers=api.as_user(other)).status_code == 200


def test_login_failures_all_answer_the_same_non_field_error(api: Api) -> None:
    api.register("john")
    expected = {"non_field_errors": ["Unable to log in with provided credentials."]}
    for body in (
        {"username": "john", "password": "wrong-password"},
        {"username": "nobody", "password": "Correct-Horse-9"},
        {"username": "john"},
        {},
    ):
        response = api.http.post("/auth/token/login/", json=body)
        assert (response.status_code, response.json()) == (400, expected), body


def test_login_with_blank_password_is_a_field_error(api: Api) -> None:
    response = api.http.post("/auth/token/login/", json={"username": "john", "password": ""})
    assert response.status_code == 400
    assert response.json() == {"password": ["This field may not be blank."]}


def test_login_by_email_when_login_field_is_email(serve) -> None:
    api = serve(login_field="email")
    api.register("john", email="john@example.com")
    response = api.http.post(
        "/auth/token/login/", data={"email": "JOHN@example.com", "password": "Correct-Horse-9"}
    )
    assert response.status_code == 200
    assert "auth_token" in response.json()


def test_inactive_user_cannot_log_in(serve) -> None:
    api = serve(send_activation_email=True)
    api.register("john", email="john@example.com")
    response = api.http.post(
        "/auth/token/login/", json={"username": "john", "password": "Correct-Horse-9"}
    )
    assert response.status_code == 400


def test_missing_and_malformed_authorization_headers_get_drf_bodies(api: Api) -> None:
    cases = {
        None: "Authentication credentials were not provided.",
        "Basic dXNlcjpwYXNz": "Authentication credentials were not provided.",
        "Token": "Invalid token header. No credentials provided.",
        "Token a b": "Invalid token header. Token string should not contain spaces.",
        "Token " + "0" * 40: "Invalid token.",
        "token " + "0" * 40: "Invalid token.",
        "Bearer " + "0" * 40: "Invalid token.",
    }
    for header, detail in cases.items():
        headers = {"Authorization": header} if header else {}
        response = api.http.get("/auth/users/me/", headers=headers)
        assert response.status_code == 401, header
        assert response.json() == {"detail": detail}, header
        assert response.headers["www-authenticate"] == "Token"


def test_non_utf8_token_is_refused_as_invalid_characters(api: Api) -> None:
    response = api.http.get("/auth/users/me/", headers=[(b"Authorization", b"Token \xff\xfe")])
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Invalid token header. Token string should not contain invalid characters."
    }


def test_bearer_keyword_works_like_token(api: Api) -> None:
    api.register("john")
    token = api.login("john")
    response = api.http.get("/auth/users/me/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["username"] == "john"


def test_stale_token_on_an_open_endpoint_is_ignored(api: Api) -> None:
    api.register("john")
    stale = {"Authorization": "Token " + "f" * 40}
    response = api.http.post(
        "/auth/token/login/",
        json={"username": "john", "password": "Correct-Horse-9"},
        headers=stale,
    )
    assert response.status_code == 200


def test_logout_without_token_is_401(api: Api) -> None:
    response = api.http.post("/auth/token/logout/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_russian_messages_follow_accept_language(api: Api) -> None:
    response = api.http.get(
        "/auth/users/me/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
    )
    assert response.json() == {"detail": "Учетные данные не были предоставлены."}
    response = api.http.post(
        "/auth/token/login/",
        json={"username": "x", "password": "y"},
        headers={"Accept-Language": "ru"},
    )
    assert response.json() == {
        "non_field_errors": ["Невозможно войти с предоставленными учетными данными."]
    }


def test_expired_token_is_invalid(serve) -> None:
    clock = ShiftedClock()
    api = serve(token_ttl_seconds=1, clock=clock)
    api.register("john")
    token = api.login("john")
    assert api.http.get("/auth/users/me/", headers=api.as_user(token)).status_code == 200
    clock.offset = timedelta(seconds=1.2)
    response = api.http.get("/auth/users/me/", headers=api.as_user(token))
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token."})


def test_fast_lane_answers_exactly_as_the_full_view(api: Api) -> None:
    """GET users/me/ is served by the fast lane, which reads a header sent twice as the full
    view does (its first Accept-Language): both answers are the same bytes and headers."""
    api.register("john", email="john@example.com")
    token = api.login("john")
    fast = api.http.get(
        "/auth/users/me/", headers={"Authorization": f"Token {token}", "Accept-Language": "ru"}
    )
    full = api.http.get(
        "/auth/users/me/",
        headers=[
            ("Authorization", f"Token {token}"),
            ("Accept-Language", "ru"),
            ("X-Anything", "1"),
            ("Accept-Language", "ru"),
        ],
    )
    assert fast.status_code == full.status_code == 200
    assert fast.content == full.content
    for name in ("content-type", "content-length", "allow", "vary", "content-language"):
        assert fast.headers.get(name) == full.headers.get(name), name
