"""Attacks the first run of this suite found to succeed (F1-F6), each now asserting the fixed
behaviour: F1 duplicated Authorization headers (http/credentials.authorization), F2 look-alike
usernames (core/identity: mixed scripts refused, Turkish i's folded), F3 homograph email
domains, F4 non-UTF-8 form bodies, F6 slash redirects to the Host header's host (off). F5 is
kept as the contract wants it, and its test says why."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.security.helpers import (
    COOKIE_JWT_INVALID_ACCESS,
    DRF_INVALID_TOKEN,
    DRF_NO_CREDENTIALS,
    PASSWORD,
    TAKEN_USERNAME,
    Server,
    answer,
    stored_users,
    unique,
)

NO_SPACES = {"detail": "Invalid token header. Token string should not contain spaces."}
# DRF behind a WSGI server sees duplicated headers joined by a comma, and refuses the lot.
DUPLICATE_REFUSALS = [DRF_INVALID_TOKEN, NO_SPACES, DRF_NO_CREDENTIALS]
INVALID_USERNAME = {
    "username": [
        "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_"
        " characters."
    ]
}
TAKEN_EMAIL = {"email": ["User with this Email address already exists."]}
INVALID_EMAIL = {"email": ["Enter a valid email address."]}


# F1: a duplicated Authorization header is read by its first copy (http/credentials.py
# read_token, dialects/cookie_jwt/views.py _bearer: `request.headers.get`), so a request carrying
# two credentials is authenticated as whichever comes first, where a proxy or WAF may have
# judged the other one.


def test_duplicated_header_valid_first_is_refused(server: Server) -> None:
    account = server.user("dupvalid")
    response = server.http.get(
        "/auth/users/me/",
        headers=[
            ("Authorization", f"Token {account.token}"),
            ("Authorization", "Token " + "0" * 40),
        ],
    )
    status, body = answer(response)
    assert status == 401
    assert body in DUPLICATE_REFUSALS


def test_duplicated_header_of_two_users_is_refused(server: Server) -> None:
    alice, bob = server.user("dupalice"), server.user("dupbob")
    response = server.http.get(
        "/auth/users/me/",
        headers=[
            ("Authorization", f"Token {alice.token}"),
            ("Authorization", f"Token {bob.token}"),
        ],
    )
    status, body = answer(response)
    assert status == 401
    assert body in DUPLICATE_REFUSALS


def test_duplicated_header_is_refused_by_check_token(server: Server) -> None:
    account = server.user("dupcheck")
    response = server.http.post(
        "/api/v1/check_token/",
        json={"username": account.username},
        headers=[("Authorization", f"Bearer {account.token}"), ("Authorization", "Bearer junk")],
    )
    assert answer(response) == (
        401,
        {"result": {"status": 401, "message": "Invalid token."}, "data": {}},
    )


def test_duplicated_header_is_refused_by_the_jwt_api(server: Server) -> None:
    account = server.user("dupjwt")
    tokens = server.http.post(
        "/u/api/login/", json={"email": account.email, "password": PASSWORD}
    ).json()
    server.http.cookies.clear()
    response = server.http.get(
        "/u/api/secure_test/",
        headers=[
            ("Authorization", f"Bearer {tokens['access_token']}"),
            ("Authorization", "Bearer junk"),
        ],
    )
    assert answer(response) == (401, COOKIE_JWT_INVALID_ACCESS)


# F2: look-alike usernames from other scripts (and the Turkish dotless/dotted i) make a second
# account that reads exactly as the first: core/identity.py username_key is NFKC + casefold
# only, with no confusable skeleton (UTS #39) or mixed-script check.

LOOKALIKE_VARIANTS: dict[str, Callable[[str], str]] = {
    "cyrillic a": lambda name: name.replace("a", "\u0430", 1),
    "cyrillic o": lambda name: name.replace("o", "\u043e", 1),
    "greek omicron": lambda name: name.replace("o", "\u03bf", 1),
    "dotless i": lambda name: name.replace("i", "\u0131", 1),
    "dotted capital i": lambda name: name.replace("i", "\u0130", 1),
}


@pytest.mark.parametrize("variant", list(LOOKALIKE_VARIANTS))
def test_lookalike_usernames_are_refused(server: Server, variant: str) -> None:
    name = unique("kofficialas")
    server.api.register(name, email=f"{name}@example.com")
    count = len(stored_users(server.settings))
    spoof = LOOKALIKE_VARIANTS[variant](name)
    assert spoof != name
    response = server.http.post("/auth/users/", json={"username": spoof, "password": PASSWORD})
    status, body = answer(response)
    assert status == 400, body
    assert body in (TAKEN_USERNAME, INVALID_USERNAME)
    assert len(stored_users(server.settings)) == count


# F3: an email whose domain imitates another's with a letter of another script (an IDN
# homograph, `exаmple.com` with a Cyrillic а) is accepted as a new address (the email field of
# dialects/fields.py and core/identity.py email_key), though the same letter in the local part
# is refused as invalid.


def test_homograph_email_domain_is_refused(server: Server) -> None:
    name = unique("kofficialas")
    email = f"{name}@example.com"
    server.api.register(name, email=email)
    count = len(stored_users(server.settings))
    spoof = email.replace("example", "ex\u0430mple")
    response = server.http.post(
        "/auth/users/", json={"username": unique("other"), "password": PASSWORD, "email": spoof}
    )
    status, body = answer(response)
    assert status == 400, body
    assert body in (TAKEN_EMAIL, INVALID_EMAIL)
    assert len(stored_users(server.settings)) == count


# F4: urlencoded and multipart bodies that are not UTF-8 are read as Latin-1 and make an
# account (`n\xffx\xfe` becomes the username "nÿxþ"); JSON bodies that are not UTF-8 are
# refused with 400. (http/parsing.py; a `_require_utf8_form` check is being added there.)


def test_non_utf8_form_body_is_refused(server: Server) -> None:
    count = len(stored_users(server.settings))
    response = server.http.post(
        "/auth/users/",
        content=b"username=n\xffx\xfe&password=Correct-Horse-9",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer(response)[0] == 400
    assert len(stored_users(server.settings)) == count


def test_non_utf8_multipart_field_is_refused(server: Server) -> None:
    count = len(stored_users(server.settings))
    response = server.http.post(
        "/auth/users/",
        files={"username": (None, b"m\xffx\xfe"), "password": (None, PASSWORD.encode())},
    )
    assert answer(response)[0] == 400
    assert len(stored_users(server.settings)) == count


# F5: DELETE /auth/users/<id>/ by a non-staff user answers 403 for an existing id and 404 for
# a missing one, while GET/PUT/PATCH answer 404 for both: an oracle of which ids exist. Kept:
# CONTRACT §7 wants Djoser's answers here quirks included ("another user's record is 404 but
# deleting it is 403"), and ids are sequential, so the oracle tells nothing a count does not.


def test_delete_of_another_user_answers_as_djoser_and_deletes_nothing(server: Server) -> None:
    attacker, other = server.user("delprobe"), server.user("delprobed")
    statuses = [
        server.http.request(
            "DELETE",
            f"/auth/users/{user_id}/",
            json={"current_password": PASSWORD},
            headers=attacker.auth,
        ).status_code
        for user_id in (other.id, other.id + 100_000)
    ]
    assert statuses == [403, 404]
    assert server.http.get("/auth/users/me/", headers=other.auth).status_code == 200


# F6: a path with a doubled trailing slash is answered by Starlette's slash redirect (the
# dialects' Starlette apps keep `redirect_slashes` on: dialects/*/routes.py), whose absolute
# Location is built from the request's Host header: a Host-header open redirect, and a 307
# that makes a client re-send a login's credentials to the named host.


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/users/me//"),
        ("POST", "/auth/token/login//"),
        ("POST", "/auth/jwt/create//"),
        ("POST", "/api/v1/login//"),
        ("POST", "/u/api/login//"),
    ],
)
def test_no_redirect_follows_the_host_header(server: Server, method: str, path: str) -> None:
    account = server.user("redirect")
    response = server.http.request(
        method,
        path,
        json={"username": account.username, "email": account.email, "password": PASSWORD},
        headers={**account.auth, "Host": "evil.example"},
    )
    assert response.status_code < 500
    assert "evil.example" not in response.headers.get("location", "")
