"""Nothing tells an unknown account from a known one: logins fail alike (status, body and
headers) for an unknown user, a wrong password and an inactive user in every dialect; the
recovery endpoints answer alike whether or not the address is known, and send nothing to
an unknown one; object ids answer alike whether hidden or missing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.security.helpers import (
    PASSWORD,
    Server,
    answer,
    comparable_headers,
    module_server,
    unique,
)


@pytest.fixture(scope="module")
def activating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """New accounts start inactive, until activated from the emailed link."""
    with module_server(
        tmp_path_factory.mktemp("activating"), send_activation_email=True
    ) as running:
        yield running


def _alike(responses: list[httpx.Response]) -> None:
    first = responses[0]
    for response in responses:
        answer(response)
        assert (response.status_code, response.content) == (first.status_code, first.content)
        assert comparable_headers(response) == comparable_headers(first)


Login = Callable[[Server, str, str, str], httpx.Response]

LOGINS: dict[str, Login] = {
    "token login": lambda s, name, email, pw: s.http.post(
        "/auth/token/login/", json={"username": name, "password": pw}
    ),
    "jwt create": lambda s, name, email, pw: s.http.post(
        "/auth/jwt/create/", json={"username": name, "password": pw}
    ),
    "envelope login": lambda s, name, email, pw: s.http.post(
        "/api/v1/login/", json={"username": name, "password": pw}
    ),
    "envelope accounts login": lambda s, name, email, pw: s.http.post(
        "/api/v1/accounts/login/", json={"username": name, "password": pw}
    ),
    "u/api login": lambda s, name, email, pw: s.http.post(
        "/u/api/login/", json={"email": email, "password": pw}
    ),
}
EXPECTED_STATUS = {
    "token login": 400,
    "jwt create": 401,
    "envelope login": 401,
    "envelope accounts login": 401,
    "u/api login": 401,
}


@pytest.mark.parametrize("dialect", list(LOGINS))
def test_login_failures_are_indistinguishable(
    server: Server, activating: Server, dialect: str
) -> None:
    login = LOGINS[dialect]
    known = server.user("known")
    responses = [
        login(server, known.username, known.email, "Wrong-Horse-1"),
        login(server, unique("nobody"), "nobody@example.com", PASSWORD),
        login(server, known.username.upper(), known.email.upper(), "Wrong-Horse-1"),
    ]
    inactive = unique("idle")
    activating.api.register(inactive, email=f"{inactive}@example.com")
    responses.append(login(activating, inactive, f"{inactive}@example.com", PASSWORD))
    responses.append(login(activating, unique("nobody"), "nobody@example.com", PASSWORD))
    assert responses[0].status_code == EXPECTED_STATUS[dialect]
    _alike(responses)
    for response in responses:
        assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", ["/auth/users/reset_password/", "/auth/users/reset_username/"])
def test_recovery_answers_alike_and_mails_only_the_known(server: Server, path: str) -> None:
    known = server.user("recover")
    before = len(server.mailbox.messages)
    unknown_email = f"{unique('ghost')}@example.com"
    responses = [
        server.http.post(path, json={"email": unknown_email}),
        server.http.post(path, json={"email": known.email}),
    ]
    _alike(responses)
    assert responses[0].status_code == 204
    assert len(server.mailbox.wait_for(known.email)) >= 1
    assert server.mailbox.wait_for(unknown_email, timeout=0.5) == []
    assert all(m["To"] == known.email for m in server.mailbox.messages[before:])


def test_resend_activation_answers_alike(activating: Server) -> None:
    inactive = unique("pending")
    activating.api.register(inactive, email=f"{inactive}@example.com")
    assert len(activating.mailbox.wait_for(f"{inactive}@example.com")) == 1
    ghost = f"{unique('ghost')}@example.com"
    responses = [
        activating.http.post(
            "/auth/users/resend_activation/", json={"email": f"{inactive}@example.com"}
        ),
        activating.http.post("/auth/users/resend_activation/", json={"email": ghost}),
    ]
    _alike(responses)
    assert responses[0].status_code == 204
    assert len(activating.mailbox.wait_for(f"{inactive}@example.com", count=2)) == 2
    assert activating.mailbox.wait_for(ghost, timeout=0.5) == []


def test_check_token_answers_alike_for_unknown_and_other_usernames(server: Server) -> None:
    attacker, other = server.user("probe"), server.user("probed")
    responses = [
        server.http.post(
            "/api/v1/check_token/",
            json={"username": name},
            headers={"Authorization": f"Bearer {attacker.token}"},
        )
        for name in (other.username, unique("ghost"))
    ]
    _alike(responses)
    assert responses[0].status_code == 403


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH"])
def test_hidden_and_missing_ids_answer_alike(server: Server, method: str) -> None:
    attacker, other = server.user("idprobe"), server.user("idprobed")
    responses = [
        server.http.request(method, f"/auth/users/{user_id}/", json={}, headers=attacker.auth)
        for user_id in (other.id, other.id + 100_000)
    ]
    _alike(responses)
    assert responses[0].status_code == 404


def test_a_blank_email_logs_nobody_in(server: Server) -> None:
    """Accounts without an email all share the empty one: it must not find any of them."""
    name = unique("blank")
    server.api.register(name, password="Blank-Email-Pass-1")
    for email in ("", " ", "\t"):
        response = server.http.post(
            "/u/api/login/", json={"email": email, "password": "Blank-Email-Pass-1"}
        )
        assert answer(response) == (401, {"detail": "Invalid credentials"}), repr(email)
        assert "set-cookie" not in response.headers
