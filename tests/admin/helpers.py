"""Helpers of the admin UI's tests: users made through the core, a form-posting client."""

from __future__ import annotations

import asyncio
import re

import httpx

from authgate.composition import build_core
from authgate.core.models import User
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store
from tests.support import CHEAP_ARGON2, Api

PASSWORD = "Correct-Horse-9"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def make_user(
    settings: Settings, username: str, *, staff: bool = False, superuser: bool = False
) -> User:
    """A user created through the core, on the settings' database."""

    async def create() -> User:
        store = open_store(settings.database_url)
        await store.connect()
        core = build_core(settings, store, LogMailer(), argon2=CHEAP_ARGON2)
        try:
            return await core.users.register(
                username=username,
                email=f"{username}@example.com",
                password=PASSWORD,
                is_staff=staff,
                is_superuser=superuser,
            )
        finally:
            await core.close()
            await store.close()

    return asyncio.run(create())


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of the first form of a page."""
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


class AdminClient:
    """A browser-like client of /admin/: it keeps cookies and posts forms with their token."""

    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30, transport=transport)

    @classmethod
    def of(cls, api: Api) -> AdminClient:
        """A client of the server `api` talks to, live or in this process alike (with a cookie
        jar of its own)."""
        return cls(str(api.http.base_url), api.transport)

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        form = self.http.get("/admin/login")
        assert form.status_code == 200, form.text
        return self.http.post(
            "/admin/login",
            data={"csrf_token": csrf_of(form), "username": username, "password": password},
        )

    def post(self, path: str, page: str, **fields: str) -> httpx.Response:
        """POST a form of `page` (whose token it carries) to `path`."""
        token = csrf_of(self.http.get(page))
        return self.http.post(path, data={"csrf_token": token, **fields})
