"""Who may change whom (issue 11, item 1): a staff member who is not a superuser changes or
deletes no superuser through any door (Djoser's users/<id>/ under both mounts, the records
dialect, every admin form), and the core operations refuse it whoever calls them. Also: staff
changing someone's email lock nobody out, while a user's own change awaits re-activation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.errors import PermissionDeniedError
from authgate.core.models import User
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store
from tests.admin.helpers import AdminClient, make_user
from tests.security.helpers import FORBIDDEN, NO_THROTTLE, answer, stored_user
from tests.support import Api, Mailbox, link_parts

pytestmark = pytest.mark.in_process  # the answers of the views and forms, not the wire

PASSWORD = "Correct-Horse-9"  # tests/admin/helpers.py make_user's


@dataclass
class Scene:
    """A live server with a superuser `root` and a staff member `boss` (not a superuser),
    both signed in by token, and boss signed in to the admin too."""

    api: Api
    settings: Settings
    root: User
    boss_token: str
    root_token: str
    admin: AdminClient

    def as_boss(self) -> dict[str, str]:
        return self.api.as_user(self.boss_token)


@pytest.fixture
def scene(serve: Callable[..., Api], make_settings: Callable[..., Settings]) -> Iterator[Scene]:
    overrides: dict[str, Any] = {"cookie_secure": False, **NO_THROTTLE}
    api, settings = serve(**overrides), make_settings(**overrides)
    root = make_user(settings, "root", staff=True, superuser=True)
    make_user(settings, "boss", staff=True)
    admin = AdminClient.of(api)
    assert admin.login("boss").status_code == 303
    try:
        yield Scene(api, settings, root, api.login("boss"), api.login("root"), admin)
    finally:
        admin.http.close()


def _djoser(method: str, prefix: str) -> Callable[[Scene], httpx.Response]:
    def attempt(scene: Scene) -> httpx.Response:
        path = f"{prefix}/users/{scene.root.id}/"
        body: dict[str, str] = (
            {"current_password": PASSWORD} if method == "DELETE" else {"email": "boss@evil.test"}
        )
        return scene.api.http.request(method, path, json=body, headers=scene.as_boss())

    return attempt


def _records(scene: Scene) -> httpx.Response:
    return scene.api.http.patch(
        f"/user/{scene.root.id}/",
        json={"groups": [], "user_permissions": []},
        headers=scene.as_boss(),
    )


def _admin_form(action: str, **fields: str) -> Callable[[Scene], httpx.Response]:
    def attempt(scene: Scene) -> httpx.Response:
        page = f"/admin/users/{scene.root.id}"
        return scene.admin.post(f"{page}/{action}", "/admin/users", **fields)

    return attempt


# Every door through which one account changes or deletes another.
DOORS = [
    pytest.param(_djoser("PATCH", "/auth"), id="djoser PATCH /auth/users/<id>/"),
    pytest.param(_djoser("PUT", "/auth"), id="djoser PUT /auth/users/<id>/"),
    pytest.param(_djoser("DELETE", "/auth"), id="djoser DELETE /auth/users/<id>/"),
    pytest.param(_djoser("PATCH", "/api/v1/auth"), id="djoser PATCH /api/v1/auth/users/<id>/"),
    pytest.param(_djoser("PUT", "/api/v1/auth"), id="djoser PUT /api/v1/auth/users/<id>/"),
    pytest.param(_djoser("DELETE", "/api/v1/auth"), id="djoser DELETE /api/v1/auth/users/<id>/"),
    pytest.param(_records, id="records PATCH /user/<id>/"),
    pytest.param(
        _admin_form("profile", email="boss@evil.test", first_name="", last_name=""),
        id="admin profile",
    ),
    pytest.param(_admin_form("privileges", role="USER"), id="admin privileges"),
    pytest.param(_admin_form("rights"), id="admin rights"),
    pytest.param(_admin_form("active", active="0"), id="admin deactivate"),
    pytest.param(
        _admin_form(
            "password", new_password="Boss-Owns-Root-77", new_password_retype="Boss-Owns-Root-77"
        ),
        id="admin password",
    ),
    pytest.param(_admin_form("tokens/revoke-all"), id="admin revoke every token"),
    pytest.param(_admin_form("sessions/revoke-all"), id="admin end every session"),
]


@pytest.mark.parametrize("door", DOORS)
def test_staff_cannot_change_or_delete_a_superuser_through_any_door(
    scene: Scene, door: Callable[[Scene], httpx.Response]
) -> None:
    before = stored_user(scene.settings, "root")
    refused = door(scene)
    assert refused.status_code == 403, refused.text
    if refused.headers.get("content-type", "").startswith("application/json"):
        assert answer(refused) == (403, FORBIDDEN)
    # Nothing changed: the stored account, and root's token still signs root in.
    assert stored_user(scene.settings, "root") == before
    me = scene.api.http.get("/auth/users/me/", headers=scene.api.as_user(scene.root_token))
    assert me.status_code == 200
    assert me.json()["email"] == "root@example.com"


# The core operations behind those doors (and behind the CLI, which acts as the operator):
# each refuses a staff actor who may not change the user, whoever calls it.
CoreChange = Callable[[Core, User, User], Awaitable[object]]
CORE_CHANGES: list[Any] = [
    pytest.param(
        lambda core, boss, root: core.users.update_profile(root, email="x@evil.test", actor=boss),
        id="update_profile",
    ),
    pytest.param(
        lambda core, boss, root: core.users.set_password(root, "Boss-Owns-Root-77", actor=boss),
        id="set_password",
    ),
    pytest.param(
        lambda core, boss, root: core.users.set_active(root, active=False, actor=boss),
        id="set_active",
    ),
    pytest.param(
        lambda core, boss, root: core.users.set_privileges(
            root, actor=boss, role="ADMIN", roles=("USER", "ADMIN")
        ),
        id="set_privileges",
    ),
    pytest.param(lambda core, boss, root: core.users.delete(root, actor=boss), id="delete"),
    pytest.param(
        lambda core, boss, root: core.directory.groups.assign(boss, root, group_ids=[]),
        id="assign groups",
    ),
    pytest.param(
        lambda core, boss, root: core.sessions.revoke_every(boss, root), id="end sessions"
    ),
]


@pytest.mark.parametrize("change", CORE_CHANGES)
def test_the_core_refuses_staff_changing_a_superuser_whoever_calls_it(
    make_settings: Callable[..., Settings], change: CoreChange
) -> None:
    settings = make_settings()
    root = make_user(settings, "root", staff=True, superuser=True)
    boss = make_user(settings, "boss", staff=True)

    async def attempt() -> None:
        store = open_store(settings.database_url)
        await store.connect()
        core = build_core(settings, store, LogMailer())
        try:
            with pytest.raises(PermissionDeniedError):
                await change(core, boss, root)
        finally:
            await core.close()
            await store.close()

    asyncio.run(attempt())
    assert stored_user(settings, "root") == root


def test_staff_changing_a_users_email_does_not_lock_them_out(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], mail: Mailbox
) -> None:
    """With activation emails on, a user's own email change deactivates the account until
    the new address is proved; a staff member's change of it does not (staff vouch for it)."""
    overrides: dict[str, Any] = {"send_activation_email": True, **NO_THROTTLE}
    api, settings = serve(**overrides), make_settings(**overrides)
    make_user(settings, "boss", staff=True)
    john = make_user(settings, "john")
    boss = api.as_user(api.login("boss"))
    john_token = api.login("john")

    moved = api.http.patch(f"/auth/users/{john.id}/", json={"email": "j@new.test"}, headers=boss)
    assert moved.status_code == 200, moved.text
    stored = stored_user(settings, "john")
    assert stored is not None
    assert (stored.email, stored.is_active) == ("j@new.test", True)
    assert api.http.get("/auth/users/me/", headers=api.as_user(john_token)).status_code == 200
    assert api.login("john")

    # John's own change: inactive until he follows the link mailed to the new address.
    own = api.http.patch(
        "/auth/users/me/", json={"email": "j@own.test"}, headers=api.as_user(john_token)
    )
    assert own.status_code == 200, own.text
    stored = stored_user(settings, "john")
    assert stored is not None
    assert not stored.is_active
    uid, token = link_parts(mail.wait_for("j@own.test")[-1])
    activated = api.http.post("/auth/users/activation/", json={"uid": uid, "token": token})
    assert activated.status_code == 204, activated.text
    assert api.login("john")
