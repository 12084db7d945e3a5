"""Fixtures: a migrated database per test (SQLite always, PostgreSQL when configured), a live
server over it, and a real SMTP server."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from authgate.settings import Settings
from authgate.store.migrate import upgrade
from tests.log_capture import SessionLog
from tests.support import Api, Mailbox, live_server, smtp_server

POSTGRES_URL = os.environ.get("AUTHGATE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TEST_SECRET = "test-secret-key-that-is-long-enough-for-prod-0123456789"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host's AUTHGATE_* variables must not leak into a test."""
    for name in list(os.environ):
        if name.startswith("AUTHGATE_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "authgate.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    if not POSTGRES_URL:
        pytest.skip("AUTHGATE_TEST_POSTGRES_URL is not set")
    upgrade(POSTGRES_URL)
    return POSTGRES_URL


def _truncate(url: str) -> None:
    """Empty every table of the schema, so each test starts from a fresh database."""
    import asyncpg

    from authgate.store.schema import metadata

    async def truncate() -> None:
        connection = await asyncpg.connect(url)
        try:
            tables = ", ".join(table.name for table in metadata.sorted_tables)
            await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        finally:
            await connection.close()

    asyncio.run(truncate())


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database: a SQLite file, or the emptied PostgreSQL test database."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "authgate.sqlite3"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated")
    _truncate(url)
    return url


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def make_settings(database_url: str, mailbox: tuple[Mailbox, int]) -> Callable[..., Settings]:
    """Settings for a test: its database, the test SMTP server, and any overrides."""
    _, smtp_port = mailbox

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "secret_key": TEST_SECRET,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "frontend_url": "https://app.example.com",
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture
def serve(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Api]]:
    """Start a live server with setting overrides; returns an Api client for it."""
    stack: list[Any] = []

    def start(**overrides: Any) -> Api:
        context = live_server(make_settings(**overrides))
        base_url = context.__enter__()
        stack.append(context)
        return Api(base_url)

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


@pytest.fixture
def api(serve: Callable[..., Api]) -> Api:
    """A live server with default settings."""
    return serve()


@pytest.fixture
def mail(mailbox: tuple[Mailbox, int]) -> Mailbox:
    return mailbox[0]


@pytest.fixture(scope="session", autouse=True)
def session_log() -> Iterator[SessionLog]:
    """Every log record of the session and every secret its HTTP traffic carried; at the end,
    no secret may appear in any record (tests/log_capture.py). authgate's own loggers log at
    DEBUG throughout, so that what they would say in production at any level is checked."""
    log = SessionLog()
    service = logging.getLogger("authgate")
    level = service.level
    service.setLevel(logging.DEBUG)
    try:
        with log.recording():
            yield log
    finally:
        service.setLevel(level)
    leaks = log.leaks()
    if leaks:
        pytest.fail(f"secrets in the session's logs: {sorted(set(leaks))[:20]}", pytrace=False)
