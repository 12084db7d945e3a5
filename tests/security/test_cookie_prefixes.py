"""Issue 11, item 17: every Secure, host-only cookie carries the `__Host-` prefix.

A cookie without it can be planted or overwritten by a sibling subdomain (cookie tossing): the
admin's login CSRF cookie could be set to a value the attacker knows. With
AUTHGATE_COOKIE_SECURE on, every Set-Cookie of every endpoint that sets one (and every one that
clears one) is `__Host-<name>; Secure; Path=/` with no Domain, except the two /u/api/ token
cookies, which are scoped to narrower paths (which `__Host-` forbids) and so `__Secure-`. The
flows still work with the prefixed names: the admin login, Djoser's session-on-login with
`X-CSRFToken`, and /u/api/'s cookie refresh and logout. Cookies are sent back by hand, by
the names the answers gave. Over local HTTP (Secure off) no cookie is prefixed: browsers drop
a prefixed cookie that is not Secure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from authgate.app import create_app
from authgate.settings import Settings
from tests.admin.helpers import CSRF, PASSWORD, make_user
from tests.security.helpers import NO_THROTTLE

# Secure cookies scoped below Path=/ (the only ones that may not be __Host-): /u/api/'s access
# token (its mount) and refresh token (its refresh endpoint), so no other path receives them.
PATH_SCOPED = {"__Secure-access_token": "/u/api/", "__Secure-refresh_token": "/u/api/refresh/"}


@dataclass
class SetCookie:
    name: str
    value: str
    attributes: dict[str, str]
    raw: str


@dataclass
class Browser:
    """Keeps what Set-Cookie headers set (by name, whatever the attributes) and sends it back
    by hand; records every Set-Cookie seen."""

    client: httpx.AsyncClient
    jar: dict[str, str] = field(default_factory=dict)
    seen: list[SetCookie] = field(default_factory=list)

    async def request(self, method: str, path: str, **options: object) -> httpx.Response:
        headers = dict(options.pop("headers", None) or {})  # type: ignore[call-overload]
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        response = await self.client.request(method, path, headers=headers, **options)  # type: ignore[arg-type]
        for raw in response.headers.get_list("set-cookie"):
            cookie = _parse(raw)
            self.seen.append(cookie)
            if cookie.attributes.get("max-age") == "0" or not cookie.value.strip('"'):
                self.jar.pop(cookie.name, None)
            else:
                self.jar[cookie.name] = cookie.value
        return response


def _parse(raw: str) -> SetCookie:
    first, *rest = raw.split(";")
    name, _, value = first.strip().partition("=")
    attributes = {}
    for part in rest:
        key, _, attribute = part.strip().partition("=")
        attributes[key.lower()] = attribute
    return SetCookie(name, value, attributes, raw)


def _csrf_field(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


async def _flows(app: object, secure: bool) -> list[SetCookie]:
    """Every endpoint that sets or clears a cookie, each flow carried through with the names
    the answers gave; every Set-Cookie seen."""
    transport = httpx.ASGITransport(app)  # type: ignore[arg-type]
    scheme = "https" if secure else "http"
    async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://authgate.test") as c:
        # The admin: login form, login, a page, logout.
        admin = Browser(c)
        form = await admin.request("GET", "/admin/login")
        fields = {"csrf_token": _csrf_field(form), "username": "boss", "password": PASSWORD}
        logged_in = await admin.request("POST", "/admin/login", data=fields)
        assert logged_in.status_code == 303, logged_in.text
        users = await admin.request("GET", "/admin/users")
        assert users.status_code == 200, users.text
        out = await admin.request("POST", "/admin/logout", data={"csrf_token": _csrf_field(users)})
        assert out.status_code == 303, out.text
        assert (await admin.request("GET", "/admin/users")).status_code == 303  # logged out

        # Djoser's session-on-login: the session authenticates, X-CSRFToken from the cookie.
        djoser = Browser(c)
        login = {"username": "john", "password": PASSWORD}
        opened = await djoser.request("POST", "/auth/token/login/", json=login)
        assert opened.status_code == 200, opened.text
        csrf_name = "__Host-csrftoken" if secure else "csrftoken"
        assert csrf_name in djoser.jar, djoser.jar
        me = await djoser.request("GET", "/auth/users/me/")
        assert me.status_code == 200, me.text
        changed = await djoser.request(
            "PATCH",
            "/auth/users/me/",
            json={"first_name": "John"},
            headers={"X-CSRFToken": djoser.jar[csrf_name]},
        )
        assert changed.status_code == 200, changed.text
        token = opened.json()["auth_token"]
        ended = await djoser.request(
            "POST", "/auth/token/logout/", headers={"Authorization": f"Token {token}"}
        )
        assert ended.status_code == 204, ended.text

        # /u/api/: cookie login, a read by the access cookie, refresh and logout by cookie.
        cookie_jwt = Browser(c)
        answer = await cookie_jwt.request(
            "POST", "/u/api/login/", json={"email": "john@example.com", "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        assert (await cookie_jwt.request("GET", "/u/api/secure_test/")).status_code == 200
        csrf = {"X-CSRF-Token": cookie_jwt.jar["__Host-csrf_token" if secure else "csrf_token"]}
        refreshed = await cookie_jwt.request("POST", "/u/api/refresh/", headers=csrf)
        assert refreshed.status_code == 200, refreshed.text
        assert (await cookie_jwt.request("GET", "/u/api/secure_test/")).status_code == 200
        csrf = {"X-CSRF-Token": cookie_jwt.jar["__Host-csrf_token" if secure else "csrf_token"]}
        gone = await cookie_jwt.request("POST", "/u/api/logout/", headers=csrf)
        assert gone.status_code == 200, gone.text
        assert cookie_jwt.jar == {}
    return admin.seen + djoser.seen + cookie_jwt.seen


def _run(settings: Settings) -> list[SetCookie]:
    make_user(settings, "boss", staff=True)
    make_user(settings, "john")
    app = create_app(settings)

    async def go() -> list[SetCookie]:
        async with app.router.lifespan_context(app):
            return await _flows(app, settings.cookie_secure)

    return asyncio.run(go())


def _settings(make_settings: Callable[..., Settings], secure: bool) -> Settings:
    return make_settings(
        cookie_secure=secure,
        create_session_on_login=True,
        authentication={"djoser": ["token", "session"]},
        **NO_THROTTLE,
    )


def test_every_secure_cookie_is_host_prefixed_and_the_flows_work(
    make_settings: Callable[..., Settings],
) -> None:
    seen = _run(_settings(make_settings, secure=True))
    names = {cookie.name for cookie in seen}
    # Every cookie authgate sets, and each was also cleared at its logout.
    assert names == {
        "__Host-authgate_admin_login",
        "__Host-authgate_session",
        "__Host-csrftoken",
        "__Host-csrf_token",
        *PATH_SCOPED,
    }
    for cookie in seen:
        attributes = cookie.attributes
        assert "secure" in attributes, cookie.raw
        assert "domain" not in attributes, cookie.raw  # host-only
        assert attributes.get("samesite") in ("lax", "strict"), cookie.raw
        if cookie.name.startswith("__Host-"):
            assert attributes.get("path") == "/", cookie.raw
        else:
            assert attributes.get("path") == PATH_SCOPED[cookie.name], cookie.raw


def test_cookies_over_local_http_carry_no_prefix(make_settings: Callable[..., Settings]) -> None:
    seen = _run(_settings(make_settings, secure=False))
    assert seen
    for cookie in seen:
        assert not cookie.name.startswith(("__Host-", "__Secure-")), cookie.raw
        assert "secure" not in cookie.attributes, cookie.raw
