"""Issue 11, item 3: no answer carries a URL built from the Host header.

Starlette's trailing-slash redirect answers `/admin/users/` with `307 Location:
http://<Host>/admin/users`: an open redirect, and a 307 makes the browser re-send a POSTed
admin password to whatever host the request named. Every route of the app is crawled, with and
without its trailing slash, by GET and POST, anonymous and as a logged-in superuser (the forms
carrying their CSRF token, so the admin's own redirects after a POST are reached), all with a
hostile Host header.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Router

from authgate.app import create_app
from authgate.settings import Settings
from tests.admin.helpers import CSRF, PASSWORD, make_user
from tests.security.helpers import NO_THROTTLE

HOSTILE = "evil.example"
PARAMETER = re.compile(r"\{[^}]+\}")


def _paths(routes: list[BaseRoute], prefix: str = "") -> Iterator[str]:
    """Every route's path under `prefix`, mounts followed, path parameters left as `{...}`."""
    for route in routes:
        if isinstance(route, Mount):
            mounted = getattr(route.app, "router", route.app)
            if isinstance(mounted, Router):
                yield from _paths(mounted.routes, prefix + route.path)
        else:
            yield prefix + str(getattr(route, "path", ""))


def _crawl_targets(app: Starlette, user_id: int) -> list[str]:
    """Each route's path with a real id in it, with and without the trailing slash; the
    admin's logout last (it ends the crawling session)."""
    found: set[str] = set()
    for path in _paths(app.routes):
        concrete = PARAMETER.sub(str(user_id), path)
        found.add(concrete)
        found.add(concrete[:-1] if concrete.endswith("/") else concrete + "/")
    return sorted(found, key=lambda p: (p.startswith("/admin/logout"), p))


def _assert_no_hostile_url(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    for name, value in response.headers.items():
        assert HOSTILE not in value, (where, name, value)
    assert HOSTILE not in response.text, (where, response.text[:300])
    location = response.headers.get("location")
    if location is not None:  # a path on this host, never scheme://host nor //host
        assert location.startswith("/"), (where, location)
        assert not location.startswith("//"), (where, location)


async def _crawl(app: Starlette, settings: Settings, target_id: int) -> int:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    seen = 0
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=f"http://{HOSTILE}") as anonymous,
        httpx.AsyncClient(transport=transport, base_url=f"http://{HOSTILE}") as staff,
    ):
        # The admin login itself, with and without the slash (the 307 that replayed passwords).
        form = await staff.get("/admin/login")
        login_csrf = CSRF.search(form.text)
        assert login_csrf is not None, form.text
        fields = {"csrf_token": login_csrf.group(1), "username": "boss", "password": PASSWORD}
        for path in ("/admin/login/", "/admin/login"):
            logged_in = await staff.post(path, data=fields)
            _assert_no_hostile_url(logged_in)
        assert logged_in.status_code == 303, logged_in.text
        users = await staff.get("/admin/users")
        session_csrf = CSRF.search(users.text)
        assert session_csrf is not None, users.text
        for path in _crawl_targets(app, target_id):
            for client in (anonymous, staff):
                _assert_no_hostile_url(await client.get(path))
                form_post = await client.post(path, data={"csrf_token": session_csrf.group(1)})
                _assert_no_hostile_url(form_post)
                _assert_no_hostile_url(await client.post(path, json={}))
                seen += 3
    return seen


def test_no_answer_carries_a_url_built_from_a_hostile_host_header(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(cookie_secure=False, admin_enabled=True, **NO_THROTTLE)
    make_user(settings, "boss", staff=True, superuser=True)
    target = make_user(settings, "target")
    app = create_app(settings)
    crawled = asyncio.run(_crawl(app, settings, target.id))
    assert crawled > 600  # every route, both spellings, three ways, two clients


def test_admin_slash_path_is_no_307_to_the_hostile_host(
    make_settings: Callable[..., Settings],
) -> None:
    """The reported attack on its own: a POSTed admin password must not be redirected."""
    app = create_app(make_settings(cookie_secure=False))

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=f"http://{HOSTILE}") as client,
        ):
            return await client.post(
                "/admin/login/", data={"username": "boss", "password": PASSWORD}
            )

    response = asyncio.run(post())
    assert response.status_code not in (301, 302, 303, 307, 308), response.headers
    assert "location" not in response.headers
