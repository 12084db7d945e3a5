"""The admin UI: session login, CSRF, staff only, and each page's changes, served in process
(the pages' answers, not the wire: tests/admin/test_admin_over_http.py has a real server)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable

import httpx
import pytest

from authgate.settings import Settings
from authgate.store import open_store
from tests.admin.helpers import PASSWORD, AdminClient, csrf_of, make_user
from tests.support import Api

pytestmark = pytest.mark.in_process  # the pages' answers, not the wire

Serve = Callable[..., Api]


@pytest.fixture
def local(serve: Serve, make_settings: Callable[..., Settings]) -> tuple[Api, Settings]:
    """A server whose cookies work over plain HTTP (the test client honours Secure)."""
    return serve(cookie_secure=False), make_settings(cookie_secure=False)


def _admin(api: Api) -> AdminClient:
    return AdminClient.of(api)


def _stored_session_digests(settings: Settings) -> list[str]:
    async def read() -> list[str]:
        store = open_store(settings.database_url)
        await store.connect()
        try:
            users = await store.list_users()
            return [s.digest for u in users for s in await store.list_user_sessions(u.id)]
        finally:
            await store.close()

    return asyncio.run(read())


def test_staff_log_in_with_a_hardened_cookie_stored_as_a_digest(local) -> None:
    api, settings = local
    make_user(settings, "boss", staff=True)
    admin = _admin(api)
    form = admin.http.get("/admin/login")
    csp = form.headers["content-security-policy"]
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert form.headers["cache-control"] == "no-store"
    answer = admin.login("boss")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/users"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "authgate_session=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    raw = admin.http.cookies["authgate_session"]
    assert len(raw) >= 43  # 32 random bytes, base64url
    assert _stored_session_digests(settings) == [hashlib.sha256(raw.encode()).hexdigest()]
    page = admin.http.get("/admin/users")
    assert page.status_code == 200
    assert "boss" in page.text


def test_secure_cookies_use_the_host_prefix(serve: Serve, make_settings) -> None:
    api = serve(env="prod")  # dev excepts direct local HTTP (http/secure_cookies.py)
    make_user(make_settings(), "boss", staff=True)
    admin = _admin(api)
    form = admin.http.get("/admin/login")
    # The login form's own cookie is Secure too: send it by hand over this plain HTTP.
    admin.http.cookies.set("__Host-authgate_admin_login", csrf_of(form))
    answer = admin.http.post(
        "/admin/login",
        data={"csrf_token": csrf_of(form), "username": "boss", "password": PASSWORD},
    )
    assert answer.status_code == 303, answer.text
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "session=" in c)
    assert cookie.startswith("__Host-authgate_session=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "Domain" not in cookie


def test_non_staff_are_refused_and_get_no_session(local) -> None:
    api, settings = local
    make_user(settings, "john")
    admin = _admin(api)
    answer = admin.login("john")
    assert answer.status_code == 403
    assert "no access" in answer.text
    assert "authgate_session" not in admin.http.cookies
    assert _stored_session_digests(settings) == []
    nobody = admin.http.get("/admin/users")
    assert nobody.status_code == 303
    assert nobody.headers["location"] == "/admin/login"
    wrong = admin.login("john", "wrong-password")
    assert wrong.status_code == 400
    assert "Unable to log in" in wrong.text


def test_a_user_who_stops_being_staff_loses_the_admin_at_once(local) -> None:
    api, settings = local
    make_user(settings, "root", staff=True, superuser=True)
    make_user(settings, "boss", staff=True)
    root, boss = _admin(api), _admin(api)
    root.login("root")
    boss.login("boss")
    users = root.http.get("/admin/users?q=boss").text
    boss_id = re.search(r'/admin/users/(\d+)">boss<', users).group(1)  # type: ignore[union-attr]
    page = f"/admin/users/{boss_id}"
    done = root.post(f"{page}/privileges", page, role="USER")
    assert done.status_code == 303
    assert boss.http.get("/admin/users").status_code == 403


def test_every_post_needs_the_sessions_csrf_token(local) -> None:
    api, settings = local
    make_user(settings, "boss", staff=True)
    make_user(settings, "other", staff=True)
    admin, other = _admin(api), _admin(api)
    admin.login("boss")
    other.login("other")
    towns = "/admin/towns"
    assert admin.http.post(towns, data={"name": "Paris"}).status_code == 403
    forged = {"name": "Paris", "csrf_token": csrf_of(other.http.get(towns))}
    assert admin.http.post(towns, data=forged).status_code == 403
    assert admin.http.post(towns, data={"name": "Paris", "csrf_token": "é"}).status_code == 403
    assert "Paris" not in admin.http.get(towns).text
    assert admin.post(towns, towns, name="Paris").status_code == 303
    assert "Paris" in admin.http.get(towns).text
    # The login form too: a post without its cookie's token is refused before any check.
    fresh = httpx.Client(base_url=str(api.http.base_url), transport=api.transport)
    refused = fresh.post("/admin/login", data={"username": "boss", "password": PASSWORD})
    assert refused.status_code == 403
    assert "authgate_session" not in fresh.cookies


def test_create_a_user_then_find_and_edit_them(local) -> None:
    api, settings = local
    make_user(settings, "boss", staff=True)
    admin = _admin(api)
    admin.login("boss")
    new = "/admin/users/new"
    weak = admin.post(new, new, username="jane", email="jane@example.com", password="x")
    assert weak.status_code == 400
    assert "jane" in weak.text
    created = admin.post(
        new,
        new,
        username="jane",
        password="Quite-Long-Pass-77",
        password_retype="Quite-Long-Pass-77",
    )
    assert created.status_code == 303
    page = created.headers["location"].split("?")[0]
    assert "User created." in admin.http.get(created.headers["location"]).text
    found = admin.http.get("/admin/users", params={"q": "JAN"})
    assert "jane" in found.text
    assert "boss" not in found.text.split("<table")[1]
    saved = admin.post(
        f"{page}/profile", page, email="j@example.com", first_name='"><script>x()</script>'
    )
    assert saved.status_code == 303
    shown = admin.http.get(page).text
    assert 'value="j@example.com"' in shown
    assert "<script>" not in shown
    assert "&#34;&gt;&lt;script&gt;" in shown
    assert api.login("jane", "Quite-Long-Pass-77")


def test_revoke_a_token_and_see_it_in_the_audit_log(local) -> None:
    api, settings = local
    make_user(settings, "boss", staff=True)
    john = make_user(settings, "john")
    token = api.login("john")
    other = api.login("john")
    admin = _admin(api)
    admin.login("boss")
    page = f"/admin/users/{john.id}"
    listed = admin.http.get(page).text
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert digest[:12] in listed
    assert token not in listed
    assert api.http.get("/auth/users/me/", headers=api.as_user(token)).status_code == 200
    done = admin.post(f"{page}/tokens/revoke", page, digest=digest)
    assert done.status_code == 303
    assert done.headers["location"].endswith("?done=token")
    assert api.http.get("/auth/users/me/", headers=api.as_user(token)).status_code == 401
    assert api.http.get("/auth/users/me/", headers=api.as_user(other)).status_code == 200
    log = admin.http.get("/admin/audit", params={"user": "john", "event": "token_revoked"}).text
    assert "token_revoked" in log
    assert "by boss" in log
    assert admin.post(f"{page}/tokens/revoke-all", page).status_code == 303
    assert api.http.get("/auth/users/me/", headers=api.as_user(other)).status_code == 401


def test_password_reset_and_deactivation_end_the_users_sessions(local) -> None:
    api, settings = local
    make_user(settings, "root", staff=True, superuser=True)
    helper = make_user(settings, "helper", staff=True)
    root, helping = _admin(api), _admin(api)
    root.login("root")
    helping.login("helper")
    assert "helper" in root.http.get(f"/admin/users/{helper.id}").text
    page = f"/admin/users/{helper.id}"
    changed = root.post(
        f"{page}/password",
        page,
        new_password="Another-Long-Pass-88",
        new_password_retype="Another-Long-Pass-88",
    )
    assert changed.status_code == 303
    assert helping.http.get("/admin/users").headers["location"] == "/admin/login"
    helping.login("helper", "Another-Long-Pass-88")
    assert helping.http.get("/admin/users").status_code == 200
    assert root.post(f"{page}/active", page, active="0").status_code == 303
    assert helping.http.get("/admin/users").headers["location"] == "/admin/login"
    assert "deactivated" in root.http.get(page).text


def test_only_a_superuser_grants_superuser_or_touches_one(local) -> None:
    api, settings = local
    root = make_user(settings, "root", staff=True, superuser=True)
    make_user(settings, "boss", staff=True)
    john = make_user(settings, "john")
    boss = _admin(api)
    boss.login("boss")
    page = f"/admin/users/{john.id}"
    grant = boss.post(f"{page}/privileges", page, role="ADMIN", is_superuser="on")
    assert grant.status_code == 403
    ok = boss.post(f"{page}/privileges", page, role="ADMIN", is_staff="on")
    assert ok.status_code == 303
    text = boss.http.get(page).text
    assert re.search(r'id="is_staff" checked', text)
    root_page = f"/admin/users/{root.id}"
    taken = boss.post(
        f"{root_page}/password", page, new_password="Take-Over-Now-99", new_password_retype="x"
    )
    assert taken.status_code == 403
    assert boss.post(f"{root_page}/active", page, active="0").status_code == 403
    assert api.login("root")


def test_logout_ends_the_session_on_the_server(local) -> None:
    api, settings = local
    make_user(settings, "boss", staff=True)
    admin = _admin(api)
    admin.login("boss")
    raw = admin.http.cookies["authgate_session"]
    out = admin.post("/admin/logout", "/admin/users")
    assert out.status_code == 303
    assert out.headers["location"] == "/admin/login"
    replay = httpx.Client(
        base_url=str(api.http.base_url), transport=api.transport, cookies={"authgate_session": raw}
    )
    assert replay.get("/admin/users").headers["location"] == "/admin/login"
    assert _stored_session_digests(settings) == []


def test_sessions_are_listed_and_ended_by_staff(local) -> None:
    api, settings = local
    make_user(settings, "root", staff=True, superuser=True)
    helper = make_user(settings, "helper", staff=True)
    root, helping = _admin(api), _admin(api)
    root.login("root")
    helping.login("helper")
    page = f"/admin/users/{helper.id}"
    digest = hashlib.sha256(helping.http.cookies["authgate_session"].encode()).hexdigest()
    assert digest[:12] in root.http.get(page).text
    assert root.post(f"{page}/sessions/revoke", page, digest=digest).status_code == 303
    assert helping.http.get("/admin/users").headers["location"] == "/admin/login"
    gone = root.post(f"{page}/sessions/revoke", page, digest=digest)
    assert gone.headers["location"].endswith("?done=gone")


def test_towns_groups_audit_and_lockouts(local) -> None:
    api, settings = local
    make_user(settings, "boss", staff=True)
    john = make_user(settings, "john")
    admin = _admin(api)
    admin.login("boss")
    assert admin.post("/admin/towns", "/admin/towns", name="Lyon").status_code == 303
    again = admin.post("/admin/towns", "/admin/towns", name="Lyon")
    assert again.status_code == 400
    town_id = re.search(r"/admin/towns/(\d+)/rename", again.text).group(1)  # type: ignore[union-attr]
    renamed = admin.post(f"/admin/towns/{town_id}/rename", "/admin/towns", name="Lille")
    assert renamed.status_code == 303
    assert "Lille" in admin.http.get("/admin/towns").text
    assert admin.post(f"/admin/towns/{town_id}/delete", "/admin/towns").status_code == 303
    assert "Lille" not in admin.http.get("/admin/towns").text
    assert admin.post("/admin/groups", "/admin/groups", name="editors").status_code == 303
    assert "editors" in admin.http.get("/admin/groups").text
    for _ in range(6):  # past the free failures: a lockout
        api.http.post("/auth/token/login/", json={"username": "john", "password": "nope"})
    lockouts = admin.http.get("/admin/lockouts").text
    assert f"/admin/lockouts/{john.id}/clear" in lockouts
    cleared = admin.post(f"/admin/lockouts/{john.id}/clear", "/admin/lockouts")
    assert cleared.status_code == 303
    assert api.login("john")
    log = admin.http.get("/admin/audit", params={"user": "john"}).text
    assert "unlock" in log
    assert "wrong_password" in log
    unknown = admin.http.get("/admin/audit", params={"user": "nobody"}).text
    assert "No user is named nobody" in unknown
    assert admin.http.get("/admin/users/999999").status_code == 404
    assert admin.http.get(f"/admin/users/{2**64}").status_code == 404


def test_the_admin_can_be_turned_off(serve: Serve) -> None:
    api = serve(admin_enabled=False)
    assert api.http.get("/admin/login").status_code == 404
