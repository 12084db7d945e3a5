"""Helpers of the attack suite: a live server per module, unique users, reading the store
beside the server, and the checks that an answer leaked nothing."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import itertools
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from authgate.core.identity import email_key, username_key
from authgate.core.models import User
from authgate.settings import Settings
from authgate.store import open_store
from authgate.store.migrate import upgrade
from tests.conftest import TEST_SECRET
from tests.support import Api, Mailbox, live_server, smtp_server

PASSWORD = "Correct-Horse-9"
NEW_PASSWORD = "Brand-New-Horse-5"
# What must never appear in an answer: stack traces, driver and library names, source paths.
LEAK_MARKERS = (
    "Traceback",
    'File "',
    "sqlite3",
    "asyncpg",
    "psycopg",
    "sqlalchemy",
    "pydantic",
    "site-packages",
    "authgate/",
    "Internal Server Error",
)
DRF_INVALID_TOKEN = {"detail": "Invalid token."}
DRF_NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
SIMPLEJWT_INVALID = {"detail": "Token is invalid", "code": "token_not_valid"}
COOKIE_JWT_INVALID_ACCESS = {"detail": "The access token is invalid or expired"}
COOKIE_JWT_INVALID_REFRESH = {"detail": "The refresh token is invalid or expired"}
LOGIN_FAILED = {"non_field_errors": ["Unable to log in with provided credentials."]}
NOT_FOUND = {"detail": "Not found."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
TAKEN_USERNAME = {"username": ["A user with that username already exists."]}

# Throttling and lockout (when this build has them) are tested on their own
# (test_limits_and_throttling.py); elsewhere many users come from one address and many
# attempts fail on purpose.
NO_THROTTLE: dict[str, object] = {
    name: False for name in ("throttle_enabled", "lockout_enabled") if name in Settings.model_fields
}

_counter = itertools.count()


def unique(prefix: str = "u") -> str:
    """A username nobody else in the run uses (letters and digits only)."""
    return f"{prefix}{next(_counter)}x{uuid.uuid4().hex[:6]}"


@dataclass
class Server:
    """A live server, its settings and the mailbox of its SMTP server."""

    api: Api
    settings: Settings
    mailbox: Mailbox

    @property
    def http(self) -> httpx.Client:
        return self.api.http

    @property
    def base_url(self) -> str:
        return str(self.api.http.base_url)

    def user(self, prefix: str = "u") -> Account:
        """A new registered account with an email, and a fresh opaque token of it."""
        name = unique(prefix)
        email = f"{name}@example.com"
        body = self.api.register(name, email=email)
        return Account(body["id"], name, email, self.api.login(name))

    def client(self) -> httpx.Client:
        """A client of its own (its own cookie jar), closed by the caller."""
        return httpx.Client(base_url=self.base_url, timeout=30)


@dataclass
class Account:
    id: int
    username: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def _settings(database_url: str, smtp_port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "frontend_url": "https://app.example.com",
        "cookie_secure": False,
    }
    values.update(NO_THROTTLE)
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("AUTHGATE_"):
                patch.delenv(name)
        return Settings(**(values | overrides), _env_file=None)


@contextlib.contextmanager
def module_server(directory: Path, **overrides: Any) -> Iterator[Server]:
    """A live server over a fresh SQLite database in `directory`, with its own SMTP server."""
    path = directory / "authgate.sqlite3"
    template = directory.parent / "security-template.sqlite3"
    if not template.exists():
        upgrade(f"sqlite:///{template}")
    shutil.copy(template, path)
    with smtp_server() as (mailbox, port):
        settings = _settings(f"sqlite:///{path}", port, **overrides)
        with live_server(settings) as base_url:
            api = Api(base_url)
            try:
                yield Server(api, settings, mailbox)
            finally:
                api.http.close()


# the store, read and written beside the server


def _with_store(settings: Settings, work: Any) -> Any:
    async def go() -> Any:
        store = open_store(settings.database_url, pool_size=1)
        await store.connect()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(go())


def stored_user(settings: Settings, username: str) -> User | None:
    """The user as stored, by username (None when there is none)."""

    async def work(store: Any) -> User | None:
        user: User | None = await store.get_user_by_username_key(username_key(username))
        return user

    result: User | None = _with_store(settings, work)
    return result


def stored_user_by_email(settings: Settings, email: str) -> User | None:
    async def work(store: Any) -> User | None:
        user: User | None = await store.get_user_by_email_key(email_key(email))
        return user

    result: User | None = _with_store(settings, work)
    return result


def stored_users(settings: Settings) -> list[User]:
    """Every stored user."""

    async def work(store: Any) -> list[User]:
        users: list[User] = await store.list_users()
        return users

    result: list[User] = _with_store(settings, work)
    return result


def jwt_version(settings: Settings, user_id: int) -> int | None:
    """The user's JWT generation (None for no user)."""

    async def work(store: Any) -> int | None:
        subject = await store.get_jwt_subject(user_id)
        return None if subject is None else int(subject[1])

    result: int | None = _with_store(settings, work)
    return result


def update_user(settings: Settings, username: str, changes: dict[str, object]) -> None:
    """Change a user beside the server, then publish the change on the revocation feed (as
    every tool writing to its database must) and wait for the server to read it."""

    async def work(store: Any) -> None:
        user = await store.get_user_by_username_key(username_key(username))
        assert user is not None
        await store.update_user(user.id, changes)
        await store.append_revocation(user.id, datetime.now(UTC))

    _with_store(settings, work)
    time.sleep(settings.revocation_poll_seconds * 4)


# answers


def assert_no_leak(response: httpx.Response) -> None:
    """No server error, no stack trace, no library or driver name, no source path."""
    assert response.status_code < 500, response.text
    text = response.text
    for marker in LEAK_MARKERS:
        assert marker not in text, (marker, text[:500])


def answer(response: httpx.Response) -> tuple[int, Any]:
    """(status, JSON body), after checking that the answer leaked nothing."""
    assert_no_leak(response)
    body = response.json() if response.content else None
    return response.status_code, body


def comparable_headers(response: httpx.Response) -> list[tuple[str, str]]:
    """The headers that must not tell two failures apart (the date and a per-request id
    excepted)."""
    return sorted(
        (k, v) for k, v in response.headers.items() if k != "date" and not k.endswith("request-id")
    )


def raw_post(
    base_url: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """POST with the standard library's client (no httpx hooks see the body): (status,
    headers, body)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


# JWTs by hand


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(header, claims, signature) of a compact JWT, unverified."""
    header, payload, signature = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload)), signature


def compact(header: dict[str, Any], claims: dict[str, Any], signature: str) -> str:
    """A compact JWT from parts (the signature as given: for tampering and `alg: none`)."""
    return ".".join(
        (
            b64url(json.dumps(header, separators=(",", ":")).encode()),
            b64url(json.dumps(claims, separators=(",", ":")).encode()),
            signature,
        )
    )
