"""The users/towns API over real HTTP: `GET /user/<id>/`, `/api/towns/`, and `towns` at registration
and on users/me/ (CONTRACT.md sections 1 and 5)."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from authgate.settings import Settings
from authgate.store import open_store, sqlite_path
from tests.store.test_directory_store import FixedClock, records_over, truncate_records
from tests.support import Api, run, run_cli

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PASSWORD = "Correct-Horse-9"
RU = {"Accept-Language": "ru"}
RECORD_FIELDS = [
    "id",
    "last_login",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "days_count",
    "groups",
    "user_permissions",
    "towns",
]
# DRF's DateTimeField: ISO 8601 in UTC with a Z, microseconds unless they are zero.
DRF_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}


@pytest.fixture(autouse=True)
def _no_records_left(database_url: str) -> None:
    truncate_records(database_url)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


def make_staff(settings: Settings, username: str) -> None:
    """Make a registered user staff, writing through the store (as an admin would), then
    telling the revocation feed, as every tool writing beside the server must (told)."""

    async def promote() -> int:
        store = open_store(settings.database_url)
        await store.connect()
        try:
            user = await store.get_user_by_username_key(username)
            assert user is not None
            await store.update_user(user.id, {"is_staff": True})
            return user.id
        finally:
            await store.close()

    told(settings, run(promote()))


def backdate(settings: Settings, user_id: int, joined: datetime) -> None:
    """Move a user's date_joined (no API changes it), and tell the feed (told)."""
    url = settings.database_url
    if url.startswith("sqlite:///"):
        with sqlite3.connect(sqlite_path(url)) as connection:
            connection.execute(
                "UPDATE auth_user SET date_joined = ? WHERE id = ?", (joined.isoformat(), user_id)
            )
        told(settings, user_id)
        return

    async def update() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                "UPDATE auth_user SET date_joined = $1 WHERE id = $2", joined, user_id
            )
        finally:
            await connection.close()

    run(update())
    told(settings, user_id)


def told(settings: Settings, user_id: int) -> None:
    """A row on the revocation feed for a user changed beside the server, and a wait for the
    server to read it (a few poll intervals): it then drops the user's cached record."""

    async def append() -> None:
        store = open_store(settings.database_url, pool_size=1)
        await store.connect()
        try:
            await store.append_revocation(user_id, datetime.now(UTC))
        finally:
            await store.close()

    run(append())
    time.sleep(settings.revocation_poll_seconds * 4)


def staff_token(api: Api, settings: Settings, username: str = "boss") -> str:
    api.register(username)
    make_staff(settings, username)
    return api.login(username)


def new_town(api: Api, token: str, name: str) -> int:
    response = api.http.post("/api/towns/", json={"name": name}, headers=api.as_user(token))
    assert response.status_code == 201, response.text
    town_id: int = response.json()["id"]
    return town_id


def record(api: Api, token: str, user_id: int) -> Any:
    response = api.http.get(f"/user/{user_id}/", headers=api.as_user(token))
    assert response.status_code == 200, response.text
    return response.json()


# GET /user/<id>/


def test_a_user_record_has_exactly_the_seed_fields(api: Api) -> None:
    gleb = api.register("gleb", email="gleb@gmail.com")
    token = api.login("gleb")
    response = api.http.get(f"/user/{gleb['id']}/", headers=api.as_user(token))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == RECORD_FIELDS
    assert body | {"last_login": None, "date_joined": None} == {
        "id": gleb["id"],
        "last_login": None,
        "is_superuser": False,
        "username": "gleb",
        "first_name": "",
        "last_name": "",
        "email": "gleb@gmail.com",
        "is_staff": False,
        "is_active": True,
        "date_joined": None,
        "days_count": 0,
        "groups": [],
        "user_permissions": [],
        "towns": [],
    }
    assert DRF_TIMESTAMP.fullmatch(body["date_joined"]), body
    assert DRF_TIMESTAMP.fullmatch(body["last_login"]), body  # set by the login above
    # Compact JSON, as DRF renders it.
    assert b", " not in response.content
    assert b": " not in response.content


def test_any_signed_in_user_reads_any_record_and_a_stranger_none(api: Api) -> None:
    gleb = api.register("gleb")
    api.register("mary")
    token = api.login("mary")
    assert record(api, token, gleb["id"])["username"] == "gleb"
    assert record(api, token, gleb["id"])["last_login"] is None  # gleb never logged in
    # The path also answers without its trailing slash.
    assert api.http.get(f"/user/{gleb['id']}", headers=api.as_user(token)).status_code == 200

    anonymous = api.http.get(f"/user/{gleb['id']}/")
    assert anonymous.status_code == 401
    assert anonymous.json() == NOT_AUTHENTICATED
    assert anonymous.headers["www-authenticate"] == "Token"
    assert api.http.get(f"/user/{gleb['id']}/", headers=RU).json() == {
        "detail": "Учетные данные не были предоставлены."
    }
    stale = api.http.get(f"/user/{gleb['id']}/", headers=api.as_user("0" * 40))
    assert (stale.status_code, stale.json()) == (401, {"detail": "Invalid token."})
    for missing in ("999999", "0", "-1", "abc", str(2**64)):
        response = api.http.get(f"/user/{missing}/", headers=api.as_user(token))
        assert (response.status_code, response.json()) == (404, NOT_FOUND), missing
    wrong = api.http.delete(f"/user/{gleb['id']}/", headers=api.as_user(token))
    assert wrong.status_code == 405
    assert wrong.json() == {"detail": 'Method "DELETE" not allowed.'}


def test_days_count_is_whole_days_since_joining_at_answer_time(
    api: Api, settings: Settings
) -> None:
    gleb = api.register("gleb")
    token = api.login("gleb")
    joined = datetime.now(UTC) - timedelta(days=3, hours=23)
    backdate(settings, gleb["id"], joined.replace(microsecond=0))
    body = record(api, token, gleb["id"])
    assert body["days_count"] == 3
    # A timestamp without microseconds has none, as DRF (Python's isoformat) renders it.
    assert body["date_joined"] == joined.replace(microsecond=0).isoformat()[:-6] + "Z"
    backdate(settings, gleb["id"], joined - timedelta(days=1))
    assert record(api, token, gleb["id"])["days_count"] == 4


def test_groups_and_permissions_a_staff_member_assigns_appear_as_ids(
    api: Api, settings: Settings
) -> None:
    gleb = api.register("gleb")
    token = api.login("gleb")
    api.register("boss")
    make_staff(settings, "boss")

    async def assign() -> tuple[list[int], list[int]]:
        store = open_store(settings.database_url)
        await store.connect()
        try:
            records = records_over(store, FixedClock(datetime.now(UTC)))
            boss = await store.get_user_by_username_key("boss")
            member = await store.get_user_by_username_key("gleb")
            assert boss is not None
            assert member is not None
            groups = records.groups
            editors = await groups.create_group(boss, "editors")
            readers = await groups.create_group(boss, "readers")
            view = await groups.create_permission(boss, "Can view town", "view_town")
            change = await groups.create_permission(boss, "Can change town", "change_town")
            await groups.set_user_groups(boss, member, [readers.id, editors.id])
            await groups.set_user_permissions(boss, member, [change.id, view.id])
            return [editors.id, readers.id], [view.id, change.id]
        finally:
            await store.close()

    group_ids, permission_ids = run(assign())
    body = record(api, token, gleb["id"])
    assert body["groups"] == group_ids
    assert body["user_permissions"] == permission_ids


# /api/towns/


def test_towns_are_listed_publicly_and_changed_by_staff_only(api: Api, settings: Settings) -> None:
    assert api.http.get("/api/towns/").json() == []
    boss = staff_token(api, settings)
    moscow = new_town(api, boss, "Moscow")
    kazan = new_town(api, boss, "  Kazan ")  # trimmed, as a DRF CharField
    expected = [{"id": moscow, "name": "Moscow"}, {"id": kazan, "name": "Kazan"}]
    assert api.http.get("/api/towns/").json() == expected
    # Reads are open: a stale token is ignored there, as on every open endpoint.
    assert api.http.get("/api/towns/", headers=api.as_user("0" * 40)).json() == expected
    assert api.http.get(f"/api/towns/{kazan}/").json() == {"id": kazan, "name": "Kazan"}
    assert api.http.get(f"/api/towns/{kazan}").json() == {"id": kazan, "name": "Kazan"}

    api.register("gleb")
    gleb = api.as_user(api.login("gleb"))
    attempts = [
        ("POST", "/api/towns/", {"name": "Omsk"}),
        ("PUT", f"/api/towns/{kazan}/", {"name": "Omsk"}),
        ("PATCH", f"/api/towns/{kazan}/", {"name": "Omsk"}),
        ("DELETE", f"/api/towns/{kazan}/", None),
        ("PUT", "/api/towns/999999/", {"name": ""}),  # permissions come before lookup and body
    ]
    for method, path, body in attempts:
        denied = api.http.request(method, path, json=body, headers=gleb)
        assert (denied.status_code, denied.json()) == (403, FORBIDDEN), (method, path)
        anonymous = api.http.request(method, path, json=body)
        assert (anonymous.status_code, anonymous.json()) == (401, NOT_AUTHENTICATED)
        assert anonymous.headers["www-authenticate"] == "Token"
    assert api.http.get("/api/towns/").json() == expected

    staff = api.as_user(boss)
    renamed = api.http.put(f"/api/towns/{kazan}/", json={"name": "Kazan-on-Volga"}, headers=staff)
    assert (renamed.status_code, renamed.json()) == (200, {"id": kazan, "name": "Kazan-on-Volga"})
    same = api.http.put(f"/api/towns/{kazan}/", json={"name": "Kazan-on-Volga"}, headers=staff)
    assert same.status_code == 200  # a town keeps its own name
    patched = api.http.patch(f"/api/towns/{kazan}/", data={"name": "Kazan"}, headers=staff)
    assert (patched.status_code, patched.json()) == (200, {"id": kazan, "name": "Kazan"})
    untouched = api.http.patch(f"/api/towns/{kazan}/", json={}, headers=staff)
    assert (untouched.status_code, untouched.json()) == (200, {"id": kazan, "name": "Kazan"})
    deleted = api.http.delete(f"/api/towns/{moscow}/", headers=staff)
    assert (deleted.status_code, deleted.content) == (204, b"")
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        gone = api.http.request(method, f"/api/towns/{moscow}/", json={"name": "X"}, headers=staff)
        assert (gone.status_code, gone.json()) == (404, NOT_FOUND), method
    assert api.http.get("/api/towns/").json() == [{"id": kazan, "name": "Kazan"}]


def test_town_names_are_checked_as_drf_checks_a_unique_char_field(
    api: Api, settings: Settings
) -> None:
    staff = api.as_user(staff_token(api, settings))
    moscow = new_town(api, staff["Authorization"].split()[1], "Moscow")
    omsk = new_town(api, staff["Authorization"].split()[1], "Omsk")
    cases: list[tuple[object, list[str]]] = [
        ({}, ["This field is required."]),
        ({"name": ""}, ["This field may not be blank."]),
        ({"name": None}, ["This field may not be null."]),
        ({"name": "x" * 256}, ["Ensure this field has no more than 255 characters."]),
        ({"name": "Moscow"}, ["town with this name already exists."]),
    ]
    for body, messages in cases:
        response = api.http.post("/api/towns/", json=body, headers=staff)
        assert (response.status_code, response.json()) == (400, {"name": messages}), body
    taken = api.http.put(f"/api/towns/{omsk}/", json={"name": "Moscow"}, headers=staff)
    assert taken.json() == {"name": ["town with this name already exists."]}
    ru = api.http.post("/api/towns/", json={"name": "Moscow"}, headers=staff | RU)
    assert ru.json() == {"name": ["Город с таким названием уже существует."]}
    assert api.http.post("/api/towns/", json=[1], headers=staff).json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }
    # No slash redirect (it would point at whatever host the Host header names): a 404.
    assert api.http.post("/api/towns", json={"name": "Tver"}, headers=staff).status_code == 404
    assert [t["id"] for t in api.http.get("/api/towns/").json()][:2] == [moscow, omsk]


# towns at registration and on users/me/


def test_registration_takes_towns_and_shows_them(api: Api, settings: Settings) -> None:
    boss = staff_token(api, settings)
    ufa, tver = new_town(api, boss, "Ufa"), new_town(api, boss, "Tver")
    response = api.http.post(
        "/auth/users/",
        json={
            "username": "gleb",
            "password": PASSWORD,
            "email": "gleb@gmail.com",
            "towns": [tver, ufa, tver],
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == ["email", "username", "id", "towns"]
    assert body["towns"] == sorted([ufa, tver])
    token = api.login("gleb")
    assert record(api, token, body["id"])["towns"] == sorted([ufa, tver])
    # Without towns the answer is Djoser's, byte for byte.
    plain = api.http.post("/auth/users/", json={"username": "mary", "password": PASSWORD})
    assert plain.content == b'{"email":"","username":"mary","id":%d}' % plain.json()["id"]
    empty = api.register("olga", towns=[])
    assert empty["towns"] == []
    # A form gives every value of a repeated key.
    form = api.http.post(
        "/auth/users/",
        data={"username": "ivan", "password": PASSWORD, "towns": [str(ufa), str(tver)]},
    )
    assert (form.status_code, form.json()["towns"]) == (201, sorted([ufa, tver]))
    multipart = api.http.post(
        "/auth/users/",
        data={"username": "petr", "password": PASSWORD, "towns": str(ufa)},
        files={"unused": ("a.txt", b"x")},
    )
    assert (multipart.status_code, multipart.json()["towns"]) == (201, [ufa])


def test_unknown_towns_refuse_a_registration_and_save_nothing(api: Api, settings: Settings) -> None:
    ufa = new_town(api, staff_token(api, settings), "Ufa")
    cases: list[tuple[object, str]] = [
        ([ufa, 999999], 'Invalid pk "999999" - object does not exist.'),
        ([999999, "x"], 'Invalid pk "999999" - object does not exist.'),
        ([ufa, "x"], "Incorrect type. Expected pk value, received str."),
        ([True], "Incorrect type. Expected pk value, received bool."),
        ([[ufa]], "Incorrect type. Expected pk value, received list."),
        ([2**70], f'Invalid pk "{2**70}" - object does not exist.'),
        (str(ufa), 'Expected a list of items but got type "str".'),
        (ufa, 'Expected a list of items but got type "int".'),
        (None, "This field may not be null."),
    ]
    for towns, message in cases:
        response = api.http.post(
            "/auth/users/", json={"username": "gleb", "password": PASSWORD, "towns": towns}
        )
        assert (response.status_code, response.json()) == (400, {"towns": [message]}), towns
    # Field errors come together, in the serializer's order; password rules only after.
    both = api.http.post(
        "/auth/users/", json={"username": "bad name", "password": "1", "towns": [999999]}
    )
    assert list(both.json()) == ["username", "towns"]
    ru = api.http.post(
        "/auth/users/",
        json={"username": "gleb", "password": PASSWORD, "towns": [999999]},
        headers=RU,
    )
    assert ru.json() == {"towns": ['Недопустимый первичный ключ "999999" - объект не существует.']}
    # Nothing was saved: the name is still free.
    assert api.register("gleb", towns=[ufa])["towns"] == [ufa]


def test_users_me_changes_towns_and_unknown_ones_change_nothing(
    api: Api, settings: Settings
) -> None:
    boss = staff_token(api, settings)
    ufa, tver = new_town(api, boss, "Ufa"), new_town(api, boss, "Tver")
    gleb = api.register("gleb", email="gleb@gmail.com", towns=[ufa])
    me = api.as_user(api.login("gleb"))
    patched = api.http.patch("/auth/users/me/", json={"towns": [tver]}, headers=me)
    assert patched.status_code == 200, patched.text
    assert patched.json() == {
        "email": "gleb@gmail.com",
        "id": gleb["id"],
        "username": "gleb",
        "towns": [tver],
    }
    put = api.http.put(
        "/auth/users/me/", json={"email": "g@x.ru", "towns": [ufa, tver]}, headers=me
    )
    assert put.json()["towns"] == sorted([ufa, tver])
    refused = api.http.patch(
        "/auth/users/me/", json={"email": "new@x.ru", "towns": [999999]}, headers=me
    )
    assert (refused.status_code, refused.json()) == (
        400,
        {"towns": ['Invalid pk "999999" - object does not exist.']},
    )
    # Nothing saved: neither the email nor the towns. users/me/'s GET stays Djoser's.
    assert api.http.get("/auth/users/me/", headers=me).json() == {
        "email": "g@x.ru",
        "id": gleb["id"],
        "username": "gleb",
    }
    assert record(api, me["Authorization"].split()[1], gleb["id"])["towns"] == sorted([ufa, tver])
    # Without towns, users/me/ answers as before and keeps them.
    plain = api.http.patch("/auth/users/me/", json={"email": "g@x.ru"}, headers=me)
    assert list(plain.json()) == ["email", "id", "username"]
    cleared = api.http.patch("/auth/users/me/", json={"towns": []}, headers=me)
    assert cleared.json()["towns"] == []
    # A deleted town leaves every user's towns.
    api.http.patch("/auth/users/me/", json={"towns": [ufa]}, headers=me)
    api.http.delete(f"/api/towns/{ufa}/", headers=api.as_user(boss))
    assert record(api, me["Authorization"].split()[1], gleb["id"])["towns"] == []


def test_the_openapi_document_describes_records_towns_groups_and_permissions(api: Api) -> None:
    paths = api.http.get("/openapi.json").json()["paths"]
    assert set(paths["/user/{id}/"]) == {"get", "patch"}
    assert set(paths["/api/towns/"]) == {"get", "post"}
    assert set(paths["/api/towns/{id}/"]) == {"get", "put", "patch", "delete"}
    assert "security" not in paths["/api/towns/"]["get"]
    assert set(paths["/api/groups/"]) == {"get", "post"}
    assert set(paths["/api/groups/{id}/"]) == {"get", "put", "patch", "delete"}
    assert set(paths["/api/permissions/"]) == {"get", "post"}
    assert set(paths["/api/permissions/{id}/"]) == {"get", "delete"}
    assert paths["/api/groups/"]["get"]["security"] == [{"token": []}]


def test_createsuperuser_is_staff_for_towns(api: Api, settings: Settings) -> None:
    run_cli(settings, "createsuperuser", "--no-input", "--username", "root", password=PASSWORD)
    token = api.login("root")
    town = new_town(api, token, "Perm")
    assert api.http.get(f"/api/towns/{town}/").json() == {"id": town, "name": "Perm"}
