"""Case variants and Unicode look-alikes of an existing username or email, at registration
and at set_username/PATCH: each must be refused as taken (or as malformed), and make no
second account that a person, or a support desk, would take for the first one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.security.helpers import (
    PASSWORD,
    TAKEN_USERNAME,
    Server,
    answer,
    stored_users,
    unique,
)

INVALID_USERNAME = {
    "username": [
        "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_"
        " characters."
    ]
}
TAKEN_EMAIL = {"email": ["User with this Email address already exists."]}
INVALID_EMAIL = {"email": ["Enter a valid email address."]}

# The victim's username is "kofficial" + a unique suffix: it has a k, an ffi, an o, an a,
# an s and an i to imitate.
USERNAME_VARIANTS: dict[str, Callable[[str], str]] = {
    "upper case": lambda name: name.upper(),
    "title case": lambda name: name.title(),
    "fullwidth": lambda name: "".join(
        chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in name
    ),
    "mathematical bold": lambda name: "".join(
        chr(0x1D41A + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in name
    ),
    "ffi ligature": lambda name: name.replace("ffi", "\ufb03", 1),
    "kelvin sign": lambda name: name.replace("k", "\u212a", 1),
    "long s": lambda name: name.replace("s", "\u017f", 1) if "s" in name else "\u017f" + name[1:],
}
# Refused one way or the other: as taken, or as not a username at all.
INVISIBLE_VARIANTS: dict[str, Callable[[str], str]] = {
    "circled letters": lambda name: "".join(
        chr(0x24D0 + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in name
    ),
    "zero width space": lambda name: name[:3] + "\u200b" + name[3:],
    "soft hyphen": lambda name: name[:3] + "\u00ad" + name[3:],
    "right-to-left override": lambda name: "\u202e" + name,
    "combining mark": lambda name: name + "\u0301",
}


def _victim(server: Server) -> tuple[str, str]:
    name = unique("kofficialas")
    email = f"{name}@example.com"
    server.api.register(name, email=email)
    return name, email


def _register(server: Server, username: str, email: str = "") -> tuple[int, object]:
    body = {"username": username, "password": PASSWORD}
    if email:
        body["email"] = email
    return answer(server.http.post("/auth/users/", json=body))


@pytest.mark.parametrize("variant", list(USERNAME_VARIANTS))
def test_username_variants_are_taken(server: Server, variant: str) -> None:
    name, _ = _victim(server)
    count = len(stored_users(server.settings))
    spoof = USERNAME_VARIANTS[variant](name)
    assert spoof != name
    assert _register(server, spoof) == (400, TAKEN_USERNAME)
    assert len(stored_users(server.settings)) == count


@pytest.mark.parametrize("variant", list(INVISIBLE_VARIANTS))
def test_invisible_characters_are_refused(server: Server, variant: str) -> None:
    name, _ = _victim(server)
    count = len(stored_users(server.settings))
    spoof = INVISIBLE_VARIANTS[variant](name)
    status, body = _register(server, spoof)
    assert status == 400
    assert body in (INVALID_USERNAME, TAKEN_USERNAME)
    assert len(stored_users(server.settings)) == count


EMAIL_VARIANTS: dict[str, Callable[[str], str]] = {
    "upper case": lambda email: email.upper(),
    "upper-case domain": lambda email: email.replace("example.com", "EXAMPLE.COM"),
    "padded with spaces": lambda email: f"  {email}  ",
}


@pytest.mark.parametrize("variant", list(EMAIL_VARIANTS))
def test_email_variants_are_taken(server: Server, variant: str) -> None:
    _, email = _victim(server)
    count = len(stored_users(server.settings))
    spoof = EMAIL_VARIANTS[variant](email)
    assert _register(server, unique("other"), spoof) == (400, TAKEN_EMAIL)
    assert len(stored_users(server.settings)) == count


EMAIL_LOOKALIKES: dict[str, Callable[[str], str]] = {
    "fullwidth local part": lambda email: (
        "".join(
            chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in email.split("@")[0]
        )
        + "@example.com"
    ),
    "cyrillic o in the local part": lambda email: email.replace("o", "\u043e", 1),
    "trailing dot of the domain": lambda email: email + ".",
}


@pytest.mark.parametrize("variant", list(EMAIL_LOOKALIKES))
def test_lookalike_emails_are_refused(server: Server, variant: str) -> None:
    _, email = _victim(server)
    count = len(stored_users(server.settings))
    spoof = EMAIL_LOOKALIKES[variant](email)
    status, body = _register(server, unique("other"), spoof)
    assert status == 400, body
    assert body in (TAKEN_EMAIL, INVALID_EMAIL)
    assert len(stored_users(server.settings)) == count


@pytest.mark.parametrize("variant", ["upper case", "fullwidth", "kelvin sign"])
def test_set_username_to_a_variant_of_another_is_refused(server: Server, variant: str) -> None:
    name, _ = _victim(server)
    account = server.user("renamer")
    response = server.http.post(
        "/auth/users/set_username/",
        json={"new_username": USERNAME_VARIANTS[variant](name), "current_password": PASSWORD},
        headers=account.auth,
    )
    assert answer(response) == (
        400,
        {"new_username": ["A user with that username already exists."]},
    )
    me = server.http.get("/auth/users/me/", headers=account.auth)
    assert me.json()["username"] == account.username


def test_patch_email_to_a_variant_of_another_is_refused(server: Server) -> None:
    _, email = _victim(server)
    account = server.user("repointer")
    for spoof in (email.upper(), EMAIL_LOOKALIKES["fullwidth local part"](email)):
        response = server.http.patch("/auth/users/me/", json={"email": spoof}, headers=account.auth)
        status, body = answer(response)
        assert status == 400, spoof
        assert body in (TAKEN_EMAIL, INVALID_EMAIL)
    assert server.http.get("/auth/users/me/", headers=account.auth).json()["email"] == account.email
