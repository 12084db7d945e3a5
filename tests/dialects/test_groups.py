"""Groups and permissions over real HTTP: `/api/groups/`, `/api/permissions/`, and staff
setting a user's `groups` and `user_permissions` with `PATCH /user/<id>/` — DRF's shapes,
401/403/404/400 in DRF's order, nothing saved on a 400, every change audited with its actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from authgate.settings import Settings
from tests.dialects.test_directory import (
    FORBIDDEN,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    PASSWORD,
    RU,
    make_staff,
    record,
)
from tests.security.helpers import stored_user
from tests.store.test_directory_store import truncate_records
from tests.support import Api, run_cli

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

ROOT_PASSWORD = "Root-Horse-Battery-9"
MISSING = 'Invalid pk "999999" - object does not exist.'


@pytest.fixture(autouse=True)
def _no_records_left(database_url: str) -> None:
    truncate_records(database_url)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


class Staff:
    """A staff member's (boss's) calls, and a plain user's (gleb's) headers."""

    def __init__(self, api: Api, settings: Settings) -> None:
        self.api = api
        boss = api.register("boss")
        make_staff(settings, "boss")
        self.id: int = boss["id"]
        self.headers = api.as_user(api.login("boss"))
        self.gleb: dict[str, Any] = api.register("gleb")
        self.plain = api.as_user(api.login("gleb"))

    def call(self, method: str, path: str, body: object = None) -> Any:
        return self.api.http.request(method, path, json=body, headers=self.headers)

    def made(self, path: str, body: object) -> int:
        response = self.call("POST", path, body)
        assert response.status_code == 201, response.text
        made_id: int = response.json()["id"]
        return made_id

    def audit(self, **query: Any) -> list[dict[str, Any]]:
        response = self.api.http.get("/api/audit/", params=query, headers=self.headers)
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()
        return entries


@pytest.fixture
def staff(api: Api, settings: Settings) -> Staff:
    return Staff(api, settings)


def _answer(response: Any) -> tuple[int, Any]:
    return response.status_code, (response.json() if response.content else None)


# /api/permissions/ and /api/groups/


def test_permissions_and_groups_are_read_by_anyone_signed_in_and_changed_by_staff(
    api: Api, staff: Staff
) -> None:
    view = staff.made("/api/permissions/", {"name": "Can view town", "codename": "view_town"})
    change = {"name": "Can change town", "codename": "towns.change_town"}
    created = staff.call("POST", "/api/permissions/", change)
    assert _answer(created) == (201, {"id": view + 1, **change})
    change_id = view + 1
    editors = staff.call("POST", "/api/groups/", {"name": "editors", "permissions": [change_id]})
    assert _answer(editors) == (
        201,
        {"id": editors.json()["id"], "name": "editors", "permissions": [change_id]},
    )
    editors_id = editors.json()["id"]
    readers_id = staff.made("/api/groups/", {"name": "readers"})

    # Anyone signed in reads; the anonymous get 401.
    groups = [
        {"id": editors_id, "name": "editors", "permissions": [change_id]},
        {"id": readers_id, "name": "readers", "permissions": []},
    ]
    permissions = [
        {"id": view, "name": "Can view town", "codename": "view_town"},
        {"id": change_id, **change},
    ]
    for path, expected in (
        ("/api/groups/", groups),
        (f"/api/groups/{editors_id}/", groups[0]),
        (f"/api/groups/{editors_id}", groups[0]),
        ("/api/permissions/", permissions),
        (f"/api/permissions/{view}/", permissions[0]),
    ):
        assert _answer(api.http.get(path, headers=staff.plain)) == (200, expected), path
        anonymous = api.http.get(path)
        assert _answer(anonymous) == (401, NOT_AUTHENTICATED), path
        assert anonymous.headers["www-authenticate"] == "Token"

    # Changes are staff only; permissions come before the lookup and the body (403 for an
    # unknown id and an empty body too), and the anonymous get 401.
    attempts = [
        ("POST", "/api/groups/", {"name": "x"}),
        ("PUT", f"/api/groups/{editors_id}/", {"name": "x"}),
        ("PATCH", f"/api/groups/{editors_id}/", {"permissions": [view]}),
        ("DELETE", f"/api/groups/{editors_id}/", None),
        ("PATCH", "/api/groups/999999/", {}),
        ("POST", "/api/permissions/", {"name": "x", "codename": "x"}),
        ("DELETE", f"/api/permissions/{view}/", None),
        ("DELETE", "/api/permissions/999999/", None),
    ]
    for method, path, body in attempts:
        denied = api.http.request(method, path, json=body, headers=staff.plain)
        assert _answer(denied) == (403, FORBIDDEN), (method, path)
        anonymous = api.http.request(method, path, json=body)
        assert _answer(anonymous) == (401, NOT_AUTHENTICATED), (method, path)
    assert _answer(api.http.get("/api/groups/", headers=staff.plain)) == (200, groups)
    assert len(api.http.get("/api/permissions/", headers=staff.plain).json()) == 2

    # Staff rename, set permissions (PATCH: either or both; PUT: the name, permissions kept
    # unless sent), and delete.
    patched = staff.call("PATCH", f"/api/groups/{editors_id}/", {"permissions": [view, change_id]})
    assert _answer(patched) == (
        200,
        {"id": editors_id, "name": "editors", "permissions": [view, change_id]},
    )
    renamed = staff.call("PUT", f"/api/groups/{editors_id}/", {"name": "writers"})
    assert renamed.json() == {"id": editors_id, "name": "writers", "permissions": [view, change_id]}
    same = staff.call("PUT", f"/api/groups/{editors_id}/", {"name": "writers", "permissions": []})
    assert same.json() == {"id": editors_id, "name": "writers", "permissions": []}
    form = api.http.patch(
        f"/api/groups/{editors_id}/",
        data={"permissions": [str(view), str(change_id)]},
        headers=staff.headers,
    )
    assert form.json()["permissions"] == [view, change_id]
    assert _answer(staff.call("DELETE", f"/api/permissions/{view}/")) == (204, None)
    assert staff.call("GET", f"/api/groups/{editors_id}/").json()["permissions"] == [change_id]
    assert _answer(staff.call("DELETE", f"/api/groups/{readers_id}/")) == (204, None)
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        gone = staff.call(method, f"/api/groups/{readers_id}/", {"name": "x"})
        assert _answer(gone) == (404, NOT_FOUND), method
    for method in ("GET", "DELETE"):
        gone = staff.call(method, f"/api/permissions/{view}/")
        assert _answer(gone) == (404, NOT_FOUND), method
    for missing in ("0", "-1", "abc", str(2**64)):
        assert staff.call("GET", f"/api/groups/{missing}/").status_code == 404, missing
    wrong = staff.call("PATCH", f"/api/permissions/{change_id}/", {"name": "x"})
    assert wrong.status_code == 405


def test_group_and_permission_bodies_are_checked_and_a_refusal_saves_nothing(
    staff: Staff,
) -> None:
    view = staff.made("/api/permissions/", {"name": "Can view town", "codename": "view_town"})
    editors = staff.made("/api/groups/", {"name": "editors", "permissions": [view]})
    readers = staff.made("/api/groups/", {"name": "readers"})
    cases: list[tuple[object, dict[str, list[str]]]] = [
        ({}, {"name": ["This field is required."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "x" * 151}, {"name": ["Ensure this field has no more than 150 characters."]}),
        ({"name": "editors"}, {"name": ["group with this name already exists."]}),
        ({"name": "new", "permissions": [view, 999999]}, {"permissions": [MISSING]}),
        (
            {"name": "new", "permissions": ["x"]},
            {"permissions": ["Incorrect type. Expected pk value, received str."]},
        ),
        (
            {"name": "new", "permissions": view},
            {"permissions": ['Expected a list of items but got type "int".']},
        ),
        (
            {"name": "editors", "permissions": [999999]},
            {"name": ["group with this name already exists."], "permissions": [MISSING]},
        ),
    ]
    for body, errors in cases:
        assert _answer(staff.call("POST", "/api/groups/", body)) == (400, errors), body
    # A change refused for one field changes none: the name stays, the permissions too.
    both = {"name": "readers", "permissions": [999999]}
    refused = staff.call("PATCH", f"/api/groups/{editors}/", both)
    assert _answer(refused) == (
        400,
        {"name": ["group with this name already exists."], "permissions": [MISSING]},
    )
    bad_ids = staff.call("PUT", f"/api/groups/{editors}/", {"name": "new", "permissions": [0]})
    assert bad_ids.json() == {"permissions": ['Invalid pk "0" - object does not exist.']}
    assert staff.call("GET", f"/api/groups/{editors}/").json() == {
        "id": editors,
        "name": "editors",
        "permissions": [view],
    }
    ru = staff.api.http.post("/api/groups/", json={"name": "editors"}, headers=staff.headers | RU)
    assert ru.json() == {"name": ["группа с таким имя уже существует."]}
    assert [g["id"] for g in staff.call("GET", "/api/groups/").json()] == [editors, readers]

    permission_cases: list[tuple[object, dict[str, list[str]]]] = [
        ({}, {"name": ["This field is required."], "codename": ["This field is required."]}),
        (
            {"name": "x", "codename": "view_town"},
            {"codename": ["permission with this codename already exists."]},
        ),
        (
            {"name": "x", "codename": "c" * 101},
            {"codename": ["Ensure this field has no more than 100 characters."]},
        ),
    ]
    for body, errors in permission_cases:
        answer = staff.call("POST", "/api/permissions/", body)
        assert _answer(answer) == (400, errors), body
    assert len(staff.call("GET", "/api/permissions/").json()) == 1


# PATCH /user/<id>/


def test_staff_set_a_users_groups_and_permissions_and_the_record_shows_them(
    api: Api, staff: Staff, settings: Settings
) -> None:
    view = staff.made("/api/permissions/", {"name": "Can view town", "codename": "view_town"})
    change = staff.made("/api/permissions/", {"name": "Can change", "codename": "change_town"})
    editors = staff.made("/api/groups/", {"name": "editors"})
    readers = staff.made("/api/groups/", {"name": "readers"})
    gleb = staff.gleb["id"]
    path = f"/user/{gleb}/"
    body = {"groups": [readers, editors, readers], "user_permissions": [change, view]}
    patched = staff.call("PATCH", path, body)
    assert patched.status_code == 200, patched.text
    shown = patched.json()
    assert (shown["groups"], shown["user_permissions"]) == ([editors, readers], [view, change])
    assert shown == record(api, staff.plain["Authorization"].split()[1], gleb) | {
        "last_login": shown["last_login"]
    }
    # Either list alone leaves the other as is; a form repeats the key; [] clears.
    only = staff.call("PATCH", path, {"groups": [editors]}).json()
    assert (only["groups"], only["user_permissions"]) == ([editors], [view, change])
    form = api.http.patch(path, data={"user_permissions": [str(view)]}, headers=staff.headers)
    assert (form.json()["groups"], form.json()["user_permissions"]) == ([editors], [view])
    cleared = staff.call("PATCH", path, {"groups": [], "user_permissions": []}).json()
    assert (cleared["groups"], cleared["user_permissions"]) == ([], [])

    # Mass assignment: every other field of the record is read-only here, so ignored.
    before = stored_user(settings, "gleb")
    privileged = {
        "id": staff.id,
        "username": "renamed",
        "email": "x@example.com",
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "date_joined": "2000-01-01T00:00:00Z",
        "towns": [1],
        "groups": [editors],
    }
    ignored = staff.call("PATCH", path, privileged)
    assert ignored.status_code == 200
    assert (ignored.json()["id"], ignored.json()["username"]) == (gleb, "gleb")
    assert ignored.json()["groups"] == [editors]
    assert stored_user(settings, "gleb") == before
    assert stored_user(settings, "renamed") is None


def test_only_staff_set_rights_and_unknown_ids_change_nothing(
    api: Api, staff: Staff, settings: Settings
) -> None:
    view = staff.made("/api/permissions/", {"name": "Can view town", "codename": "view_town"})
    editors = staff.made("/api/groups/", {"name": "editors"})
    gleb = staff.gleb["id"]
    path = f"/user/{gleb}/"
    assert staff.call("PATCH", path, {"groups": [editors], "user_permissions": [view]}).is_success
    body = {"groups": [editors], "user_permissions": [view]}
    # A user may not give themselves (or anyone) rights; 403 comes before 404 and 400.
    for target in (path, f"/user/{staff.id}/", "/user/999999/"):
        denied = api.http.patch(target, json=body, headers=staff.plain)
        assert _answer(denied) == (403, FORBIDDEN), target
        assert _answer(api.http.patch(target, json=body)) == (401, NOT_AUTHENTICATED)
    assert _answer(api.http.patch(path, json={"groups": [999999]}, headers=staff.plain)) == (
        403,
        FORBIDDEN,
    )
    for missing in ("999999", "0", "abc", str(2**64)):
        gone = staff.call("PATCH", f"/user/{missing}/", body)
        assert _answer(gone) == (404, NOT_FOUND), missing

    # Unknown ids in both lists: both reported, neither list changed.
    bad = staff.call("PATCH", path, {"groups": [editors, 999999], "user_permissions": [999999]})
    assert _answer(bad) == (400, {"groups": [MISSING], "user_permissions": [MISSING]})
    one_bad = staff.call("PATCH", path, {"groups": [], "user_permissions": [view, 999999]})
    assert _answer(one_bad) == (400, {"user_permissions": [MISSING]})
    typed = staff.call("PATCH", path, {"groups": "1", "user_permissions": [True]})
    assert _answer(typed) == (
        400,
        {
            "groups": ['Expected a list of items but got type "str".'],
            "user_permissions": ["Incorrect type. Expected pk value, received bool."],
        },
    )
    assert _answer(staff.call("PATCH", path, [1])) == (
        400,
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    )
    shown = staff.call("GET", path).json()
    assert (shown["groups"], shown["user_permissions"]) == ([editors], [view])

    # Only a superuser reshapes a superuser's rights.
    run_cli(settings, "createsuperuser", "--no-input", "--username", "root", password=ROOT_PASSWORD)
    root = stored_user(settings, "root")
    assert root is not None
    refused = staff.call("PATCH", f"/user/{root.id}/", {"groups": [editors]})
    assert _answer(refused) == (403, FORBIDDEN)
    root_headers = api.as_user(api.login("root", ROOT_PASSWORD))
    done = api.http.patch(f"/user/{root.id}/", json={"groups": [editors]}, headers=root_headers)
    assert done.json()["groups"] == [editors]
    assert api.login("gleb", PASSWORD)


def test_every_change_of_groups_and_permissions_is_audited_with_its_actor(staff: Staff) -> None:
    view = staff.made("/api/permissions/", {"name": "Can view town", "codename": "view_town"})
    editors = staff.made("/api/groups/", {"name": "editors", "permissions": [view]})
    staff.call("PATCH", f"/api/groups/{editors}/", {"name": "writers", "permissions": []})
    gleb = staff.gleb["id"]
    path = f"/user/{gleb}/"
    staff.call("PATCH", path, {"groups": [editors], "user_permissions": [view]})
    staff.call("PATCH", path, {"groups": [editors]})  # no change: no entry
    staff.call("PATCH", path, {"groups": [editors, 999999]})  # refused: no entry
    staff.call("DELETE", f"/api/groups/{editors}/")
    staff.call("DELETE", f"/api/permissions/{view}/")
    by = f"by #{staff.id} boss"

    def reasons(event: str, **query: Any) -> list[str]:
        return [e["reason"] for e in reversed(staff.audit(event=event, **query))]

    assert reasons("groups_change", user_id=gleb) == [f"groups={editors} {by}"]
    assert reasons("permissions_change", user_id=gleb) == [f"user_permissions={view} {by}"]
    assert reasons("group_change") == [
        f"group #{editors} created, permissions={view} {by}",
        f"group #{editors} renamed writers {by}",
        f"group #{editors} permissions=none {by}",
        f"group #{editors} deleted {by}",
    ]
    assert reasons("permission_change") == [
        f"permission #{view} created view_town {by}",
        f"permission #{view} deleted {by}",
    ]
    assert all(e["user_id"] is None for e in staff.audit(event="group_change"))
