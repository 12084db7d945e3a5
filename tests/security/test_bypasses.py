"""Credentials from places they must not be read from, and requests dressed up to slip past
the checks: tokens in the query string or in cookies on the token API, method-override
headers, HEAD and OPTIONS on another user's record, a logout aimed at someone else's token,
and a reset link poisoned through the Host header."""

from __future__ import annotations

import pytest

from tests.security.helpers import (
    DRF_NO_CREDENTIALS,
    NOT_FOUND,
    PASSWORD,
    Server,
    answer,
    stored_user,
)


@pytest.mark.parametrize(
    "query",
    [
        "auth_token={token}",
        "token={token}",
        "access_token={token}",
        "Authorization=Token%20{token}",
    ],
)
def test_a_token_in_the_query_string_authenticates_nobody(server: Server, query: str) -> None:
    account = server.user("query")
    response = server.http.get(f"/auth/users/me/?{query.format(token=account.token)}")
    assert answer(response) == (401, DRF_NO_CREDENTIALS)
    check = server.http.post(
        f"/api/v1/check_token/?{query.format(token=account.token)}",
        json={"username": account.username},
    )
    assert answer(check) == (
        401,
        {
            "result": {"status": 401, "message": "Authentication credentials were not provided."},
            "data": {},
        },
    )


def test_cookies_do_not_authenticate_the_token_api(server: Server) -> None:
    """The token API reads the Authorization header only: a cookie (which a browser sends on
    a cross-site form post) must not let a write through."""
    account = server.user("cookie")
    cookie_jwt = server.http.post(
        "/u/api/login/", json={"email": account.email, "password": PASSWORD}
    )
    access = cookie_jwt.json()["access_token"]
    server.http.cookies.clear()
    before = stored_user(server.settings, account.username)
    for cookie in (
        f"access_token={access}",
        f"auth_token={account.token}",
        f"token={account.token}",
        f"sessionid={account.token}",
    ):
        changed = server.http.post(
            "/auth/users/set_password/",
            json={"new_password": "Another-Horse-7", "current_password": PASSWORD},
            headers={"Cookie": cookie},
        )
        assert answer(changed) == (401, DRF_NO_CREDENTIALS), cookie
        deleted = server.http.request(
            "DELETE",
            "/auth/users/me/",
            json={"current_password": PASSWORD},
            headers={"Cookie": cookie},
        )
        assert answer(deleted) == (401, DRF_NO_CREDENTIALS), cookie
    assert stored_user(server.settings, account.username) == before


@pytest.mark.parametrize("header", ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"])
def test_method_override_headers_are_ignored(server: Server, header: str) -> None:
    account = server.user("override")
    response = server.http.post(
        "/auth/users/me/",
        json={"current_password": PASSWORD},
        headers={**account.auth, header: "DELETE"},
    )
    assert answer(response) == (405, {"detail": 'Method "POST" not allowed.'})
    assert stored_user(server.settings, account.username) is not None
    tunneled = server.http.post(
        "/auth/users/me/?_method=DELETE", json={"current_password": PASSWORD}, headers=account.auth
    )
    assert answer(tunneled) == (405, {"detail": 'Method "POST" not allowed.'})
    assert stored_user(server.settings, account.username) is not None


def test_head_and_options_do_not_reveal_another_record(server: Server) -> None:
    attacker, victim = server.user("header"), server.user("headed")
    head = server.http.head(f"/auth/users/{victim.id}/", headers=attacker.auth)
    missing = server.http.head(f"/auth/users/{victim.id + 100_000}/", headers=attacker.auth)
    assert head.status_code == missing.status_code == 404
    options = server.http.options(f"/auth/users/{victim.id}/", headers=attacker.auth)
    options_missing = server.http.options(
        f"/auth/users/{victim.id + 100_000}/", headers=attacker.auth
    )
    status, described = answer(options)
    assert status == 200
    assert described["name"] == "User Instance"
    assert "actions" not in described  # no form to change someone else's record
    assert answer(options_missing) == (status, described)
    assert victim.email not in options.text
    assert victim.username not in options.text
    get = server.http.get(f"/auth/users/{victim.id}/", headers=attacker.auth)
    assert answer(get) == (404, NOT_FOUND)


def test_a_logout_cannot_aim_at_someone_elses_token(server: Server) -> None:
    attacker, victim = server.user("logouter"), server.user("loggedin")
    for path in ("/api/v1/logout/", "/api/v1/accounts/logout/"):
        response = server.http.post(
            path,
            json={"token": victim.token, "auth_token": victim.token, "username": victim.username},
            headers={"Authorization": f"Token {server.api.login(attacker.username)}"},
        )
        assert answer(response) == (
            200,
            {"result": {"status": 200, "message": "Logged out successfully"}, "data": {}},
        )
        anonymous = server.http.post(path, json={"token": victim.token})
        assert answer(anonymous)[0] == 200
    for path in ("/auth/token/logout/", "/auth/token/logout_all/"):
        response = server.http.post(
            path,
            json={"token": victim.token, "user_id": victim.id},
            headers={"Authorization": f"Token {server.api.login(attacker.username)}"},
        )
        assert answer(response) == (204, None)
    me = server.http.get("/auth/users/me/", headers=victim.auth)
    assert answer(me) == (
        200,
        {"email": victim.email, "id": victim.id, "username": victim.username},
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example"},
        {"Forwarded": "host=evil.example;proto=https"},
        {"Origin": "https://evil.example", "Referer": "https://evil.example/reset"},
    ],
    ids=["host", "x-forwarded-host", "forwarded", "origin and referer"],
)
def test_reset_links_are_not_poisoned_by_request_headers(
    server: Server, headers: dict[str, str]
) -> None:
    account = server.user("poison")
    response = server.http.post(
        "/auth/users/reset_password/", json={"email": account.email}, headers=headers
    )
    assert answer(response) == (204, None)
    (message,) = server.mailbox.wait_for(account.email)
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    text = body.decode()
    assert "evil.example" not in text
    assert "https://app.example.com/password/reset/confirm/" in text


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/auth/users/me"), ("GET", "/auth/users/me/"), ("POST", "/auth/token/login")],
)
def test_a_foreign_host_header_redirects_nowhere(server: Server, method: str, path: str) -> None:
    """The paths a client uses (with or without the slash) are answered in place, whatever the
    Host header says."""
    account = server.user("hosted")
    response = server.http.request(
        method,
        path,
        json={"username": account.username, "password": PASSWORD},
        headers={**account.auth, "Host": "evil.example"},
    )
    status, _ = answer(response)
    assert status == 200
    assert "location" not in response.headers
