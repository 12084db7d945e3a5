"""SQL injection strings in every field a client sends: each is refused (or stored as the
literal text it is) with the endpoint's exact answer, no other account is reached, no email
goes to anyone, and the tables are intact afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.helpers import (
    COOKIE_JWT_INVALID_REFRESH,
    LOGIN_FAILED,
    NEW_PASSWORD,
    PASSWORD,
    SIMPLEJWT_INVALID,
    Account,
    Server,
    answer,
    stored_user,
    stored_users,
    unique,
)

INVALID_USERNAME = [
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_"
    " characters."
]
INVALID_EMAIL = ["Enter a valid email address."]
ENVELOPE_BAD_CREDENTIALS = {"result": {"status": 401, "message": "Invalid credentials"}, "data": {}}


def _payloads(victim: Account) -> dict[str, str]:
    return {
        "tautology": "' OR '1'='1",
        "comment out the password check": f"{victim.username}'--",
        "stacked drop": "'; DROP TABLE auth_user; --",
        "union": "' UNION SELECT password FROM auth_user --",
        "double quotes": '" OR ""="',
        "sqlite sleep-ish": "' AND randomblob(100000000) --",
        "postgres sleep": "'; SELECT pg_sleep(5); --",
    }


PAYLOADS = [
    "tautology",
    "comment out the password check",
    "stacked drop",
    "union",
    "double quotes",
    "sqlite sleep-ish",
    "postgres sleep",
]


def _intact(server: Server, victim: Account, count: int) -> None:
    """The tables are there, with every account, and the victim's is unchanged."""
    assert len(stored_users(server.settings)) == count
    me = server.http.get("/auth/users/me/", headers=victim.auth)
    assert answer(me) == (
        200,
        {"email": victim.email, "id": victim.id, "username": victim.username},
    )


def _login_attempts(server: Server, payload: str, victim: Account) -> None:
    http = server.http
    for body in (
        {"username": payload, "password": payload},
        {"username": payload, "password": PASSWORD},
    ):
        assert answer(http.post("/auth/token/login/", json=body)) == (400, LOGIN_FAILED)
        created = http.post("/auth/jwt/create/", json=body)
        assert answer(created) == (
            401,
            {"detail": "No active account found with the given credentials"},
        )
        envelope = http.post("/api/v1/login/", json=body)
        assert answer(envelope) == (401, ENVELOPE_BAD_CREDENTIALS)
    for email in (payload, f"{victim.email}'--", f"{payload}@example.com"):
        cookie_jwt = http.post("/u/api/login/", json={"email": email, "password": payload})
        assert answer(cookie_jwt) == (401, {"detail": "Invalid credentials"})
        assert "set-cookie" not in cookie_jwt.headers


@pytest.mark.parametrize("name", PAYLOADS)
def test_login_fields(server: Server, name: str) -> None:
    victim = server.user("sqlvictim")
    count = len(stored_users(server.settings))
    _login_attempts(server, _payloads(victim)[name], victim)
    _intact(server, victim, count)


@pytest.mark.parametrize("name", ["tautology", "stacked drop", "union"])
def test_registration_fields(server: Server, name: str) -> None:
    victim = server.user("sqlreg")
    payload = _payloads(victim)[name]
    count = len(stored_users(server.settings))
    as_username = server.http.post("/auth/users/", json={"username": payload, "password": PASSWORD})
    assert answer(as_username) == (400, {"username": INVALID_USERNAME})
    as_email = server.http.post(
        "/auth/users/",
        json={
            "username": unique("sqlmail"),
            "password": PASSWORD,
            "email": f"x@example.com{payload}",
        },
    )
    assert answer(as_email) == (400, {"email": INVALID_EMAIL})
    as_password = server.http.post(
        "/auth/users/", json={"username": unique("sqlpw"), "password": payload + "Horse-9x"}
    )
    # Any text is a password: it is only ever hashed.
    assert answer(as_password)[0] == 201
    _intact(server, victim, count + 1)


def test_quotes_in_a_valid_email_are_stored_as_text(server: Server) -> None:
    """`'` and `--` are legal in an email's local part: they must be stored verbatim, never
    interpreted."""
    victim = server.user("sqlverbatim")
    name = unique("quoted")
    email = "o'brien--'or'1'='1@example.com"
    created = server.http.post(
        "/auth/users/", json={"username": name, "password": PASSWORD, "email": email}
    )
    assert answer(created) == (201, {"email": email, "username": name, "id": created.json()["id"]})
    user = stored_user(server.settings, name)
    assert user is not None
    assert user.email == email
    me = server.http.get(
        "/auth/users/me/", headers={"Authorization": f"Token {server.api.login(name)}"}
    )
    assert me.json()["email"] == email
    _intact(server, victim, len(stored_users(server.settings)))


@pytest.mark.parametrize("name", ["tautology", "union"])
def test_check_token_username(server: Server, name: str) -> None:
    victim, attacker = server.user("sqlchecked"), server.user("sqlchecker")
    payload = _payloads(victim)[name]
    for username in (payload, f"{victim.username}{payload}", f"{attacker.username}{payload}"):
        response = server.http.post(
            "/api/v1/check_token/",
            json={"username": username},
            headers={"Authorization": f"Bearer {attacker.token}"},
        )
        assert answer(response) == (
            403,
            {
                "result": {"status": 403, "message": "The username does not match the token"},
                "data": {},
            },
        )


@pytest.mark.parametrize("path", ["/auth/users/reset_password/", "/auth/users/reset_username/"])
def test_recovery_emails(server: Server, path: str) -> None:
    victim = server.user("sqlreset")
    count = len(stored_users(server.settings))
    sent_before = len(server.mailbox.messages)
    for email in (
        "' OR '1'='1",
        f"{victim.email}' OR '1'='1",
        "x@example.com'; DROP TABLE auth_user;--",
    ):
        refused = server.http.post(path, json={"email": email})
        assert answer(refused) == (400, {"email": INVALID_EMAIL}), email
    # Quoted local parts are valid addresses: 204, as for any unknown address, and no mail.
    for email in ("'or'1'='1'@example.com", f"{victim.username}'--@example.com"):
        accepted = server.http.post(path, json={"email": email})
        assert answer(accepted) == (204, None), email
    assert len(server.mailbox.messages) == sent_before
    _intact(server, victim, count)


@pytest.mark.parametrize("path", ["/auth/users/reset_password_confirm/", "/auth/users/activation/"])
def test_uid_and_token_of_links(server: Server, path: str) -> None:
    victim = server.user("sqluid")
    before = stored_user(server.settings, victim.username)
    body: dict[str, Any] = {
        "uid": "MQ' OR '1'='1",
        "token": "' OR 1=1 --",
        "new_password": NEW_PASSWORD,
    }
    response = server.http.post(path, json=body)
    assert answer(response) == (400, {"uid": ["Invalid user id or user doesn't exist."]})
    assert stored_user(server.settings, victim.username) == before


def test_authenticated_fields(server: Server) -> None:
    account = server.user("sqlself")
    before = stored_user(server.settings, account.username)
    renamed = server.http.post(
        "/auth/users/set_username/",
        json={"new_username": "x'; DROP TABLE auth_user;--", "current_password": PASSWORD},
        headers=account.auth,
    )
    assert answer(renamed) == (400, {"new_username": INVALID_USERNAME})
    changed = server.http.post(
        "/auth/users/set_password/",
        json={"new_password": NEW_PASSWORD, "current_password": "' OR '1'='1"},
        headers=account.auth,
    )
    assert answer(changed) == (400, {"current_password": ["Invalid password."]})
    patched = server.http.patch(
        "/auth/users/me/", json={"email": "x' OR 1=1--"}, headers=account.auth
    )
    assert answer(patched) == (400, {"email": INVALID_EMAIL})
    deleted = server.http.request(
        "DELETE", "/auth/users/me/", json={"current_password": "' OR '1'='1"}, headers=account.auth
    )
    assert answer(deleted) == (400, {"current_password": ["Invalid password."]})
    assert stored_user(server.settings, account.username) == before


def test_jwt_fields(server: Server) -> None:
    account = server.user("sqljwt")
    for payload in ("' OR 1=1--", "x.y' OR '1'='1.z"):
        verify = server.http.post("/auth/jwt/verify/", json={"token": payload})
        assert answer(verify) == (401, SIMPLEJWT_INVALID)
        refresh = server.http.post("/auth/jwt/refresh/", json={"refresh": payload})
        assert answer(refresh) == (401, SIMPLEJWT_INVALID)
        cookie_jwt = server.http.post("/u/api/refresh/", json={"refresh_token": payload})
        assert answer(cookie_jwt) == (400, COOKIE_JWT_INVALID_REFRESH)
    assert server.http.get("/auth/users/me/", headers=account.auth).status_code == 200


NOT_TEXT = {"password": ["Not a valid string."], "username": ["Not a valid string."]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"username": {"$ne": None}, "password": {"$ne": None}}, NOT_TEXT),
        ({"username": ["a", "b"], "password": ["x"]}, NOT_TEXT),
        ({"username": 1, "password": 1}, LOGIN_FAILED),  # DRF reads 1 as the text "1"
        ({"username": True, "password": True}, NOT_TEXT),
    ],
    ids=["operator objects", "lists", "numbers", "booleans"],
)
def test_non_text_login_fields(
    server: Server, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    """Type confusion (NoSQL-style operators, arrays) gets no further than a string would."""
    victim = server.user("typed")
    token = server.http.post("/auth/token/login/", json=body)
    assert answer(token) == (400, expected)
    envelope = server.http.post("/api/v1/login/", json=body)
    assert answer(envelope) == (
        400,
        {"result": {"status": 400, "message": "Login or password is missing"}, "data": {}},
    )
    cookie_jwt = server.http.post(
        "/u/api/login/", json={"email": body["username"], "password": body["password"]}
    )
    assert answer(cookie_jwt) == (401, {"detail": "Invalid credentials"})
    assert server.http.get("/auth/users/me/", headers=victim.auth).status_code == 200
