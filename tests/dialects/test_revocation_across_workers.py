"""Two servers over one database stand in for two workers or nodes: what one revokes, the other
refuses within the revocation poll interval, although it cached the token."""

from __future__ import annotations

import time

import pytest

from tests.support import Api

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PASSWORD = "Correct-Horse-9"  # Api.register's


def _until(check, timeout: float = 2.0) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, "not propagated in time"
        time.sleep(0.01)
    return time.monotonic() - started


def test_logout_on_one_worker_is_refused_by_the_other(serve) -> None:
    first: Api = serve()
    second: Api = serve()
    first.register("john", email="john@example.com")
    token = first.login("john")
    headers = first.as_user(token)
    for _ in range(3):  # now cached by the second server
        assert second.http.get("/auth/users/me/", headers=headers).status_code == 200
    assert first.http.post("/auth/token/logout/", headers=headers).status_code == 204
    elapsed = _until(lambda: second.http.get("/auth/users/me/", headers=headers).status_code == 401)
    assert elapsed < 0.5


def test_profile_change_on_one_worker_shows_on_the_other(serve) -> None:
    first: Api = serve()
    second: Api = serve()
    first.register("john", email="john@example.com")
    headers = first.as_user(first.login("john"))
    assert second.http.get("/auth/users/me/", headers=headers).json()["email"] == "john@example.com"
    first.http.patch("/auth/users/me/", json={"email": "new@example.com"}, headers=headers)
    _until(
        lambda: (
            second.http.get("/auth/users/me/", headers=headers).json()["email"] == "new@example.com"
        )
    )


def test_password_change_from_the_cli_ends_cached_sessions(serve, make_settings) -> None:
    from tests.support import run_cli

    api: Api = serve()
    api.register("john")
    headers = api.as_user(api.login("john"))
    assert api.http.get("/auth/users/me/", headers=headers).status_code == 200
    run_cli(make_settings(), "changepassword", "john", stdin="New-Horse-Pass-1\nNew-Horse-Pass-1\n")
    _until(lambda: api.http.get("/auth/users/me/", headers=headers).status_code == 401)


def _cookie_jwt_login(api: Api, email: str) -> dict[str, str]:
    response = api.http.post("/u/api/login/", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    tokens: dict[str, str] = response.json()
    return tokens


def test_jwt_logout_on_one_worker_is_refused_by_the_other(serve) -> None:
    """An access JWT's verdict and its user's generation are cached per worker; a logout
    (which ends the user's JWTs) on one worker reaches the other through the feed."""
    first: Api = serve(cookie_secure=False)
    second: Api = serve(cookie_secure=False)
    first.register("john", email="john@example.com")
    tokens = _cookie_jwt_login(first, "john@example.com")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    for _ in range(3):  # now cached by the second server
        assert second.http.get("/u/api/secure_test/", headers=headers).status_code == 200
    assert first.http.post("/u/api/logout/", headers=headers).status_code == 200
    elapsed = _until(
        lambda: second.http.get("/u/api/secure_test/", headers=headers).status_code == 401
    )
    assert elapsed < 0.5


def test_password_change_on_one_worker_ends_jwts_cached_by_the_other(serve) -> None:
    first: Api = serve()
    second: Api = serve()
    first.register("john", email="john@example.com")
    cookie_jwt = _cookie_jwt_login(first, "john@example.com")
    cookie_jwt_headers = {"Authorization": f"Bearer {cookie_jwt['access_token']}"}
    assert second.http.get("/u/api/secure_test/", headers=cookie_jwt_headers).status_code == 200
    token_headers = first.as_user(first.login("john"))
    changed = first.http.post(
        "/auth/users/set_password/",
        json={"current_password": PASSWORD, "new_password": "New-Horse-Pass-1"},
        headers=token_headers,
    )
    assert changed.status_code == 204
    _until(
        lambda: (
            second.http.get("/u/api/secure_test/", headers=cookie_jwt_headers).status_code == 401
        )
    )
