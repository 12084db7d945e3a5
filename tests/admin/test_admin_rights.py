"""The admin's groups and permissions (a user's, a group's, the permissions page), the audit
entries of staff's edits, and the user list searched and paged by the database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

from authgate.settings import Settings
from authgate.store import open_store
from tests.admin.helpers import AdminClient, csrf_of, make_user
from tests.store.test_directory_store import truncate_records
from tests.store.test_user_search import add_user
from tests.support import Api

pytestmark = pytest.mark.in_process  # the pages' answers, not the wire


@pytest.fixture
def local(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> tuple[Api, Settings]:
    """A server whose cookies work over plain HTTP (the test client honours Secure)."""
    truncate_records(make_settings().database_url)
    return serve(cookie_secure=False), make_settings(cookie_secure=False)


# Quotes as the page escapes them.
INVALID_PK = "Invalid pk &#34;999999&#34; - object does not exist."


def _admin(api: Api, username: str) -> AdminClient:
    admin = AdminClient.of(api)
    assert admin.login(username).status_code == 303
    return admin


def _ids(page: str, pattern: str) -> list[int]:
    return [int(found) for found in re.findall(pattern, page)]


def _record(api: Api, token: str, user_id: int) -> Any:
    return api.http.get(f"/user/{user_id}/", headers=api.as_user(token)).json()


def _audit(api: Api, token: str, **query: Any) -> list[dict[str, Any]]:
    answer = api.http.get("/api/audit/", params=query, headers=api.as_user(token))
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def test_permissions_groups_and_a_users_rights_are_set_in_the_admin(local) -> None:
    api, settings = local
    boss = make_user(settings, "boss", staff=True)
    john = make_user(settings, "john")
    admin = _admin(api, "boss")
    permissions = "/admin/permissions"
    for name, codename in (("Can view town", "view_town"), ("Can change town", "change_town")):
        made = admin.post(permissions, permissions, name=name, codename=codename)
        assert made.status_code == 303
    taken = admin.post(permissions, permissions, name="Again", codename="view_town")
    assert taken.status_code == 400
    assert "permission with this codename already exists." in taken.text
    blank = admin.post(permissions, permissions, name="x", codename=" ")
    assert blank.status_code == 400
    page = admin.http.get(permissions).text
    view, change = _ids(page, r"/admin/permissions/(\d+)/delete")
    assert admin.post("/admin/groups", "/admin/groups", name="editors").status_code == 303
    (editors,) = _ids(admin.http.get("/admin/groups").text, r'/admin/groups/(\d+)"')

    # A group's page: its name and permissions, saved together.
    group = f"/admin/groups/{editors}"
    saved = admin.post(group, group, name="writers", permissions=str(change))
    assert saved.status_code == 303
    shown = admin.http.get(group).text
    assert f'id="permission-{change}" checked' in shown
    assert f'id="permission-{view}" checked' not in shown
    assert "writers" in shown
    assert "<code>change_town</code>" in admin.http.get("/admin/groups").text
    assert admin.post("/admin/groups", "/admin/groups", name="readers").status_code == 303
    refused = admin.post(group, group, name="readers", permissions="999999")
    assert refused.status_code == 400
    assert "group with this name already exists." in refused.text
    assert INVALID_PK in refused.text
    assert "writers" in admin.http.get(group).text  # nothing saved

    # A user's page: groups and own permissions, as checkboxes.
    page_path = f"/admin/users/{john.id}"
    rights = f"{page_path}/rights"
    token = api.login("john")
    done = admin.http.post(
        rights,
        data={
            "csrf_token": csrf_of(admin.http.get(page_path)),
            "groups": [str(editors)],
            "user_permissions": [str(view), str(change)],
        },
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith("?done=rights")
    record = _record(api, token, john.id)
    assert (record["groups"], record["user_permissions"]) == ([editors], [view, change])
    shown = admin.http.get(page_path).text
    assert f'id="group-{editors}" checked' in shown
    assert f'id="permission-{view}" checked' in shown
    bad = admin.post(rights, page_path, groups="999999", user_permissions=str(view))
    assert bad.status_code == 400
    assert INVALID_PK in bad.text
    forged = admin.post(rights, page_path, groups="x")
    assert forged.status_code == 400
    record = _record(api, token, john.id)
    assert (record["groups"], record["user_permissions"]) == ([editors], [view, change])
    # Nothing ticked: none.
    assert admin.post(rights, page_path).status_code == 303
    record = _record(api, token, john.id)
    assert (record["groups"], record["user_permissions"]) == ([], [])

    assert admin.post(f"/admin/permissions/{view}/delete", permissions).status_code == 303
    assert "view_town" not in admin.http.get(permissions).text
    boss_token = api.login("boss")
    by = f"by #{boss.id} boss"
    reasons = [e["reason"] for e in _audit(api, boss_token, event="permission_change")]
    assert f"permission #{view} deleted {by}" in reasons
    changes = _audit(api, boss_token, user_id=john.id, event="groups_change")
    assert [e["reason"] for e in changes] == [f"groups=none {by}", f"groups={editors} {by}"]


def test_every_admin_form_needs_the_sessions_csrf_token(local) -> None:
    api, settings = local
    make_user(settings, "boss", staff=True)
    john = make_user(settings, "john")
    admin = _admin(api, "boss")
    assert admin.post("/admin/groups", "/admin/groups", name="editors").status_code == 303
    (editors,) = _ids(admin.http.get("/admin/groups").text, r'/admin/groups/(\d+)"')
    posts = [
        (f"/admin/users/{john.id}/rights", {"groups": str(editors)}),
        (f"/admin/groups/{editors}", {"name": "renamed"}),
        ("/admin/permissions", {"name": "x", "codename": "x"}),
        (f"/admin/groups/{editors}/delete", {}),
    ]
    for path, fields in posts:
        for token in ({}, {"csrf_token": "forged"}):
            refused = admin.http.post(path, data=fields | token)
            assert refused.status_code == 403, path
            assert "CSRF token" in refused.text
    token = api.login("john")
    assert _record(api, token, john.id)["groups"] == []
    assert "editors" in admin.http.get("/admin/groups").text
    assert "No permission." in admin.http.get("/admin/permissions").text


def test_only_a_superuser_changes_a_superusers_rights_in_the_admin(local) -> None:
    api, settings = local
    root = make_user(settings, "root", staff=True, superuser=True)
    make_user(settings, "boss", staff=True)
    admin = _admin(api, "boss")
    assert admin.post("/admin/groups", "/admin/groups", name="editors").status_code == 303
    (editors,) = _ids(admin.http.get("/admin/groups").text, r'/admin/groups/(\d+)"')
    page = f"/admin/users/{root.id}"
    assert f'action="/admin/users/{root.id}/rights"' not in admin.http.get(page).text
    refused = admin.post(f"{page}/rights", "/admin/groups", groups=str(editors))
    assert refused.status_code == 403
    assert _record(api, api.login("root"), root.id)["groups"] == []


def test_staff_edits_in_the_admin_are_audited_with_the_actor(local) -> None:
    api, settings = local
    boss = make_user(settings, "boss", staff=True)
    john = make_user(settings, "john")
    admin = _admin(api, "boss")
    page = f"/admin/users/{john.id}"
    profile = admin.post(f"{page}/profile", page, email="j@example.com", first_name="Johnny")
    assert profile.status_code == 303
    assert admin.post(f"{page}/active", page, active="0").status_code == 303
    assert admin.post(f"{page}/active", page, active="1").status_code == 303
    new_password = "Another-Long-Pass-88"
    reset = admin.post(
        f"{page}/password", page, new_password=new_password, new_password_retype=new_password
    )
    assert reset.status_code == 303
    entries = _audit(api, api.login("boss"), user_id=john.id)
    by = f"by #{boss.id} boss"
    staff_entries = [
        (e["event"], e["reason"]) for e in reversed(entries) if e["event"] != "register"
    ]
    assert staff_entries == [
        ("profile_change", f"email,first_name {by}"),
        ("deactivation", by),
        ("activation", by),
        ("password_change", f"set {by}"),
    ]
    # The user's own profile change is logged too, without an actor.
    token = api.login("john", new_password)
    api.http.patch("/auth/users/me/", json={"email": "own@example.com"}, headers=api.as_user(token))
    own = _audit(api, api.login("boss"), user_id=john.id, event="profile_change")
    assert own[0]["reason"] == "email"


def _many_users(settings: Settings, names: list[str]) -> None:
    async def create() -> None:
        store = open_store(settings.database_url)
        await store.connect()
        try:
            for name in names:
                await add_user(store, name, f"{name}@example.com")
        finally:
            await store.close()

    asyncio.run(create())


def test_the_user_list_is_searched_and_paged_by_the_database(local) -> None:
    api, settings = local
    make_user(settings, "boss", staff=True)
    _many_users(settings, [f"member{i:02d}" for i in range(60)] + ["odd_one", "oddXone", "100%"])
    admin = _admin(api, "boss")
    first = admin.http.get("/admin/users", params={"q": "MEMBER"})
    names = re.findall(r'/admin/users/\d+">([^<]+)<', first.text)
    assert names == [f"member{i:02d}" for i in range(50)]
    link = re.search(r'href="(/admin/users\?q=MEMBER&amp;after=\d+)" id="next-page"', first.text)
    assert link, first.text
    second = admin.http.get(link[1].replace("&amp;", "&"))
    assert re.findall(r'/admin/users/\d+">([^<]+)<', second.text) == [
        f"member{i:02d}" for i in range(50, 60)
    ]
    assert 'id="next-page"' not in second.text
    assert 'id="first-page"' in second.text
    # Wildcards are searched for, not expanded.
    underscore = admin.http.get("/admin/users", params={"q": "d_o"}).text
    assert re.findall(r'/admin/users/\d+">([^<]+)<', underscore) == ["odd_one"]
    percent = admin.http.get("/admin/users", params={"q": "0%"}).text
    assert re.findall(r'/admin/users/\d+">([^<]+)<', percent) == ["100%"]
    everyone = admin.http.get("/admin/users").text
    assert 'id="next-page"' in everyone
    assert admin.http.get("/admin/users", params={"after": "x" * 30}).status_code == 200
