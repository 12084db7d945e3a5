"""Bodies no client should send: wrong content types (the text/plain trick of cross-site
forms included), unparseable, non-UTF-8, deeply nested and non-object JSON, lone surrogates,
NUL characters and over-long fields. Each answers 4xx in its dialect's own shape, with no
stack trace, and creates or changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.security.helpers import PASSWORD, Server, answer, raw_post, stored_users, unique

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _envelope(status: int, message: str) -> dict[str, Any]:
    return {"result": {"status": status, "message": message}, "data": {}}


@pytest.mark.parametrize(
    ("path", "content_type", "expected"),
    [
        (
            "/auth/users/",
            "text/plain",
            {"detail": 'Unsupported media type "text/plain" in request.'},
        ),
        (
            "/auth/token/login/",
            "application/xml",
            {"detail": 'Unsupported media type "application/xml" in request.'},
        ),
        ("/auth/jwt/create/", "", {"detail": 'Unsupported media type "" in request.'}),
        (
            "/api/v1/login/",
            "application/xml",
            _envelope(415, 'Unsupported media type "application/xml" in request.'),
        ),
        (
            "/u/api/login/",
            "text/plain",
            {"detail": 'Unsupported media type "text/plain" in request.'},
        ),
        (
            "/u/api/refresh/",
            "text/plain",
            {"detail": 'Unsupported media type "text/plain" in request.'},
        ),
    ],
)
def test_wrong_content_type_is_415(
    server: Server, path: str, content_type: str, expected: dict[str, Any]
) -> None:
    """A JSON body sent as text/plain is what a cross-site form can send without a preflight:
    it must not be read as JSON."""
    account = server.user("ctype")
    count = len(stored_users(server.settings))
    body = (
        f'{{"username": "{unique()}", "email": "{account.email}", "password": "{PASSWORD}",'
        f' "refresh_token": "x"}}'
    ).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    response = server.http.post(path, content=body, headers=headers)
    assert answer(response) == (415, expected)
    assert "set-cookie" not in response.headers
    assert len(stored_users(server.settings)) == count


@pytest.mark.parametrize(
    ("path", "status", "check"),
    [
        ("/auth/users/", 400, lambda b: b["detail"].startswith("JSON parse error - ")),
        ("/auth/jwt/create/", 400, lambda b: b["detail"].startswith("JSON parse error - ")),
        (
            "/api/v1/login/",
            400,
            lambda b: b["result"]["message"].startswith("The request body could not be parsed"),
        ),
        ("/u/api/login/", 400, lambda b: b == {"detail": "There was an error parsing the body"}),
    ],
)
@pytest.mark.parametrize(
    "content",
    [
        b'{"username": "\xff\xfe", "email": "\xc0\xaf", "password": "x"}',
        '{"username": "utf16", "password": "Correct-Horse-9"}'.encode("utf-16"),
        b'{"username": "trunc',
        b'{"username": NaN, "password": Infinity}',
    ],
    ids=["non-utf-8", "utf-16", "truncated", "nan"],
)
def test_unparseable_json_is_400(
    server: Server, path: str, status: int, check: Any, content: bytes
) -> None:
    count = len(stored_users(server.settings))
    response = server.http.post(path, content=content, headers=JSON)
    code, body = answer(response)
    assert code == status
    assert check(body), body
    assert len(stored_users(server.settings)) == count


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/auth/users/", lambda b: set(b) == {"detail"} and b["detail"].startswith("JSON parse")),
        ("/api/v1/login/", lambda b: b["result"]["status"] == 400 and b["data"] == {}),
        ("/u/api/login/", lambda b: b == {"detail": "There was an error parsing the body"}),
    ],
)
def test_json_nested_5000_deep_is_400(server: Server, path: str, check: Any) -> None:
    """Sent by a plain client: the body is the attack, not the test's tooling's problem."""
    count = len(stored_users(server.settings))
    deep = b'{"username": ' + b"[" * 5_000 + b"]" * 5_000 + b', "password": "x"}'
    status, _, content = raw_post(server.base_url, path, deep, JSON)
    assert status == 400
    body = json.loads(content)
    assert check(body), body
    assert "Traceback" not in content.decode()
    assert len(stored_users(server.settings)) == count


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1]", "Invalid data. Expected a dictionary, but got list."),
        (b'"text"', "Invalid data. Expected a dictionary, but got str."),
        (b"null", "No data provided"),
        (b"5", "Invalid data. Expected a dictionary, but got int."),
    ],
)
def test_json_that_is_no_object(server: Server, body: bytes, message: str) -> None:
    count = len(stored_users(server.settings))
    response = server.http.post("/auth/users/", content=body, headers=JSON)
    status, answered = answer(response)
    assert status == 400
    assert answered in (
        {"non_field_errors": [message]},
        {"detail": "JSON parse error - " + message},
    )
    envelope = server.http.post("/api/v1/login/", content=body, headers=JSON)
    assert answer(envelope) == (400, _envelope(400, "Login or password is missing"))
    assert len(stored_users(server.settings)) == count


def test_lone_surrogates_are_refused(server: Server) -> None:
    count = len(stored_users(server.settings))
    body = (
        b'{"username": "sur\\ud800", "password": "Correct-Horse-9",'
        b' "email": "a\\udfff@example.com"}'
    )
    response = server.http.post("/auth/users/", content=body, headers=JSON)
    status, refused = answer(response)
    assert status == 400
    assert "Surrogate characters are not allowed: U+DFFF." in refused["email"]
    assert list(refused) == ["email", "username"]
    login = server.http.post(
        "/auth/token/login/",
        content=b'{"username": "\\ud800", "password": "\\udfff"}',
        headers=JSON,
    )
    assert answer(login) == (
        400,
        {
            "password": ["Surrogate characters are not allowed: U+DFFF."],
            "username": ["Surrogate characters are not allowed: U+D800."],
        },
    )
    assert len(stored_users(server.settings)) == count


def test_nul_characters_are_refused(server: Server) -> None:
    count = len(stored_users(server.settings))
    response = server.http.post(
        "/auth/users/", json={"username": "nul\x00user", "password": PASSWORD}
    )
    assert answer(response) == (
        400,
        {
            "username": [
                "Enter a valid username. This value may contain only letters, numbers, and"
                " @/./+/-/_ characters.",
                "Null characters are not allowed.",
            ]
        },
    )
    email = server.http.post(
        "/auth/users/",
        json={"username": unique(), "password": PASSWORD, "email": "a\x00b@example.com"},
    )
    assert answer(email) == (
        400,
        {"email": ["Null characters are not allowed.", "Enter a valid email address."]},
    )
    assert len(stored_users(server.settings)) == count


def test_over_long_username_and_email_are_refused(server: Server) -> None:
    count = len(stored_users(server.settings))
    username = server.http.post("/auth/users/", json={"username": "u" * 151, "password": PASSWORD})
    assert answer(username) == (
        400,
        {"username": ["Ensure this field has no more than 150 characters."]},
    )
    email = server.http.post(
        "/auth/users/",
        json={"username": unique(), "password": PASSWORD, "email": "a" * 250 + "@example.com"},
    )
    assert answer(email) == (400, {"email": ["Ensure this field has no more than 254 characters."]})
    assert len(stored_users(server.settings)) == count
