"""Mass assignment and insecure direct object references: no writable endpoint lets a client
set is_staff, is_superuser, role, id, is_active or a password hash, a staff user cannot grant
superuser, and no `<id>` (or `uid`) lets one user read, change or delete another's record.
Every refusal is checked against the store: nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.helpers import (
    FORBIDDEN,
    NEW_PASSWORD,
    NOT_FOUND,
    PASSWORD,
    Account,
    Server,
    answer,
    stored_user,
    unique,
    update_user,
)
from tests.support import link_parts

PRIVILEGED: dict[str, Any] = {
    "is_staff": True,
    "is_superuser": True,
    "is_active": False,
    "role": "ADMIN",
    "id": 1,
    "pk": 1,
    "user_id": 1,
    "password_hash": "argon2$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
    "password": "pbkdf2_sha256$1$salt$Zm9yZ2Vk",
    "last_login": "2000-01-01T00:00:00Z",
    "date_joined": "2000-01-01T00:00:00Z",
    "ver": 99,
    "groups": [1],
    "user_permissions": [1],
}
WRITABLE_OWN = [
    ("PATCH", "/auth/users/me/"),
    ("PUT", "/auth/users/me/"),
    ("PATCH", "/api/v1/auth/users/me/"),
    ("PATCH", "/auth/users/{id}/"),
    ("PUT", "/auth/users/{id}/"),
    ("PUT", "/api/v1/auth/users/{id}/"),
]
ID_PATHS = ["/auth/users/{id}/", "/api/v1/auth/users/{id}/", "/auth/users/{id}"]


def _snapshot(server: Server, username: str) -> tuple[object, ...]:
    """Everything about a stored user that an attack could change (last_login aside)."""
    user = stored_user(server.settings, username)
    assert user is not None
    return (
        user.id,
        user.username,
        user.email,
        user.password_hash,
        user.is_active,
        user.is_staff,
        user.is_superuser,
        user.role,
        user.date_joined,
    )


def _plain(server: Server, username: str) -> None:
    """The stored user has no privilege at all."""
    user = stored_user(server.settings, username)
    assert user is not None
    assert (user.is_staff, user.is_superuser, user.is_active, user.role) == (
        False,
        False,
        True,
        "USER",
    )
    assert user.password_hash.startswith("$argon2id$")
    assert user.password_hash != PRIVILEGED["password_hash"]


def _roles_as_dialects_see_them(server: Server, account: Account, password: str) -> None:
    envelope = server.http.post(
        "/api/v1/login/", json={"username": account.username, "password": password}
    )
    assert envelope.json()["data"]["role"] == "no_role"
    cookie_jwt = server.http.post(
        "/u/api/login/", json={"email": account.email, "password": password}
    )
    assert cookie_jwt.json()["role"] == "USER"
    server.http.cookies.clear()
    admin = server.http.get(
        "/u/api/test_role/",
        headers={"Authorization": f"Bearer {cookie_jwt.json()['access_token']}"},
    )
    assert answer(admin) == (
        403,
        {"detail": "You do not have permission to perform this action"},
    )


@pytest.fixture(scope="module")
def staff(server: Server) -> Account:
    account = server.user("staff")
    update_user(server.settings, account.username, {"is_staff": True})
    return account


# registration


@pytest.mark.parametrize("mount", ["/auth/users/", "/api/v1/auth/users/"])
def test_registration_ignores_privileged_fields(server: Server, mount: str) -> None:
    existing = server.user("existing")
    before = _snapshot(server, existing.username)
    name = unique("mass")
    ids = {"id": existing.id, "pk": existing.id, "user_id": existing.id}
    body = PRIVILEGED | ids | {"username": name, "email": f"{name}@example.com"}
    response = server.http.post(mount, json=body)
    status, created = answer(response)
    assert status == 201
    assert list(created) == ["email", "username", "id"]
    assert created["id"] != existing.id
    _plain(server, name)
    assert _snapshot(server, existing.username) == before
    # The `password` given is the password (hashed), not a hash to store as is.
    account = Account(created["id"], name, f"{name}@example.com", "")
    _roles_as_dialects_see_them(server, account, PRIVILEGED["password"])


def test_registration_by_form_ignores_privileged_fields(server: Server) -> None:
    name = unique("massform")
    fields = {k: str(v) for k, v in PRIVILEGED.items() if not isinstance(v, list)}
    response = server.http.post(
        "/auth/users/", data=fields | {"username": name, "password": PASSWORD}
    )
    assert answer(response)[0] == 201
    _plain(server, name)


def test_registration_cannot_overwrite_an_existing_id(server: Server) -> None:
    victim = server.user("victim")
    before = _snapshot(server, victim.username)
    name = unique("squatter")
    response = server.http.post(
        "/auth/users/", json={"username": name, "password": PASSWORD, "id": victim.id}
    )
    status, created = answer(response)
    assert status == 201
    assert created["id"] != victim.id
    assert _snapshot(server, victim.username) == before


# the user's own record


@pytest.mark.parametrize(("method", "path"), WRITABLE_OWN)
def test_own_record_updates_ignore_privileged_fields(
    server: Server, method: str, path: str
) -> None:
    account = server.user("self")
    before = _snapshot(server, account.username)
    body = PRIVILEGED | {"username": "renamed", "email": account.email}
    response = server.http.request(
        method, path.format(id=account.id), json=body, headers=account.auth
    )
    assert answer(response) == (
        200,
        {"email": account.email, "id": account.id, "username": account.username},
    )
    assert _snapshot(server, account.username) == before
    _plain(server, account.username)
    # The token still speaks for the same account, whose password is unchanged.
    me = server.http.get("/auth/users/me/", headers=account.auth)
    assert me.json()["id"] == account.id
    assert server.api.login(account.username)


def test_set_username_and_set_password_ignore_privileged_fields(server: Server) -> None:
    account = server.user("setters")
    new_name = unique("renamed")
    renamed = server.http.post(
        "/auth/users/set_username/",
        json=PRIVILEGED | {"new_username": new_name, "current_password": PASSWORD},
        headers=account.auth,
    )
    assert answer(renamed) == (204, None)
    changed = server.http.post(
        "/auth/users/set_password/",
        json=PRIVILEGED | {"new_password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=account.auth,
    )
    assert answer(changed) == (204, None)
    _plain(server, new_name)
    assert server.api.login(new_name, NEW_PASSWORD)


def test_email_of_another_user_cannot_be_taken_over(server: Server) -> None:
    account, other = server.user("taker"), server.user("owner")
    before = _snapshot(server, account.username)
    response = server.http.patch(
        "/auth/users/me/", json={"email": other.email.upper()}, headers=account.auth
    )
    assert answer(response) == (400, {"email": ["User with this Email address already exists."]})
    assert _snapshot(server, account.username) == before


# staff


def test_staff_cannot_grant_superuser_or_roles(server: Server, staff: Account) -> None:
    target = server.user("target")
    before = _snapshot(server, target.username)
    for method in ("PATCH", "PUT"):
        response = server.http.request(
            method, f"/auth/users/{target.id}/", json=PRIVILEGED, headers=staff.auth
        )
        assert answer(response) == (
            200,
            {"email": target.email, "id": target.id, "username": target.username},
        )
    assert _snapshot(server, target.username) == before
    _plain(server, target.username)


def test_staff_cannot_make_themselves_superuser(server: Server, staff: Account) -> None:
    before = _snapshot(server, staff.username)
    response = server.http.patch(
        "/auth/users/me/", json={"is_superuser": True, "role": "ADMIN"}, headers=staff.auth
    )
    assert answer(response)[0] == 200
    assert _snapshot(server, staff.username) == before
    user = stored_user(server.settings, staff.username)
    assert user is not None
    assert (user.is_superuser, user.role) == (False, "USER")


# IDOR


@pytest.mark.parametrize("path", ID_PATHS)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH"])
def test_another_users_record_is_hidden_like_a_missing_one(
    server: Server, path: str, method: str
) -> None:
    attacker, victim = server.user("attacker"), server.user("victim")
    before = _snapshot(server, victim.username)
    body = {"email": attacker.email.replace("@", "+x@"), "is_staff": True}
    hidden = server.http.request(
        method, path.format(id=victim.id), json=body, headers=attacker.auth
    )
    missing = server.http.request(
        method, path.format(id=victim.id + 10_000), json=body, headers=attacker.auth
    )
    assert answer(hidden) == answer(missing) == (404, NOT_FOUND)
    assert _snapshot(server, victim.username) == before
    assert server.http.get("/auth/users/me/", headers=victim.auth).json()["email"] == victim.email


@pytest.mark.parametrize("mount", ["/auth/users/", "/api/v1/auth/users/"])
def test_another_user_cannot_be_deleted(server: Server, mount: str) -> None:
    attacker, victim = server.user("deleter"), server.user("kept")
    before = _snapshot(server, victim.username)
    for password in (PASSWORD, "wrong"):
        response = server.http.request(
            "DELETE",
            f"{mount}{victim.id}/",
            json={"current_password": password},
            headers=attacker.auth,
        )
        assert answer(response) == (403, FORBIDDEN)
    assert _snapshot(server, victim.username) == before
    assert server.http.get("/auth/users/me/", headers=victim.auth).status_code == 200


@pytest.mark.parametrize(
    "spelling",
    [
        "0{id}",
        "%2B{id}",
        "{id}.0",
        "{id}%20",
        "{id}%00",
        "{id}%20OR%201=1",
        "-{id}",
        "{id}e0",
        "{arabic}",
        "{fullwidth}",
        "{id};",
        "me%2F..%2F{id}",
    ],
)
def test_odd_spellings_of_another_id_reach_nothing(server: Server, spelling: str) -> None:
    attacker, victim = server.user("spell"), server.user("spelt")
    before = _snapshot(server, victim.username)
    digits = str(victim.id)
    arabic = "".join(chr(0x0660 + int(d)) for d in digits)
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in digits)
    path = f"/auth/users/{spelling.format(id=victim.id, arabic=arabic, fullwidth=fullwidth)}/"
    for method in ("GET", "PATCH"):
        response = server.http.request(
            method, path, json={"email": "pwned@example.com"}, headers=attacker.auth
        )
        assert answer(response) == (404, NOT_FOUND), method
    deleted = server.http.request(
        "DELETE", path, json={"current_password": PASSWORD}, headers=attacker.auth
    )
    # The id is read leniently (as Django's int() does: "+7", "07", "٧"), so some spellings
    # name the victim: refused all the same.
    assert answer(deleted) in ((403, FORBIDDEN), (404, NOT_FOUND))
    assert _snapshot(server, victim.username) == before


@pytest.mark.parametrize("user_id", ["0", "-1", "9" * 30, "1e3", "0x1", "NaN", "%00"])
def test_ids_out_of_range_are_404(server: Server, user_id: str) -> None:
    account = server.user("range")
    for method in ("GET", "PATCH"):
        response = server.http.request(
            method, f"/auth/users/{user_id}/", json={}, headers=account.auth
        )
        assert answer(response) == (404, NOT_FOUND), method


def test_user_list_shows_only_oneself(server: Server) -> None:
    account = server.user("lister")
    server.user("unseen")
    for mount in ("/auth/users/", "/api/v1/auth/users/"):
        response = server.http.get(mount, headers=account.auth)
        assert answer(response) == (
            200,
            [{"email": account.email, "id": account.id, "username": account.username}],
        )


def test_anonymous_id_requests_are_401(server: Server) -> None:
    victim = server.user("anon")
    before = _snapshot(server, victim.username)
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = server.http.request(
            method, f"/auth/users/{victim.id}/", json={"current_password": PASSWORD}
        )
        assert answer(response) == (
            401,
            {"detail": "Authentication credentials were not provided."},
        )
    assert _snapshot(server, victim.username) == before


def test_check_token_of_another_username_is_403(server: Server) -> None:
    attacker, victim = server.user("checker"), server.user("checked")
    for name in (victim.username, victim.username.upper(), f" {victim.username}"):
        response = server.http.post(
            "/api/v1/check_token/",
            json={"username": name},
            headers={"Authorization": f"Bearer {attacker.token}"},
        )
        assert answer(response) == (
            403,
            {
                "result": {"status": 403, "message": "The username does not match the token"},
                "data": {},
            },
        ), name


def test_reset_link_of_one_user_cannot_reset_another(server: Server) -> None:
    """The `uid` of a reset link is an object reference too: swapping it for the victim's
    (taken from the victim's own earlier link) with the attacker's token fails."""
    attacker, victim = server.user("resetter"), server.user("resetvictim")
    before = _snapshot(server, victim.username)
    for account in (attacker, victim):
        sent = server.http.post("/auth/users/reset_password/", json={"email": account.email})
        assert sent.status_code == 204
    attacker_uid, attacker_token = link_parts(server.mailbox.wait_for(attacker.email)[0])
    victim_uid, _ = link_parts(server.mailbox.wait_for(victim.email)[0])
    assert attacker_uid != victim_uid
    response = server.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": victim_uid, "token": attacker_token, "new_password": NEW_PASSWORD},
    )
    assert answer(response) == (400, {"token": ["Invalid token for given user."]})
    assert _snapshot(server, victim.username) == before
    # And the attacker's own link is still good for the attacker only.
    own = server.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": attacker_uid, "token": attacker_token, "new_password": NEW_PASSWORD},
    )
    assert own.status_code == 204
    assert _snapshot(server, victim.username) == before
