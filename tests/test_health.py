"""/healthz and /readyz (http/health.py), the schema head they compare with
(store/revisions.py), and the Docker HEALTHCHECK that asks them."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from authgate.core.models import AuditQuery
from authgate.settings import Settings
from authgate.store import open_store
from authgate.store.revisions import RevisionError, Revisions, head_revision, shipped_revisions
from tests.support import Api, free_port

ROOT = Path(__file__).resolve().parent.parent
TEST_REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL")
HEAD = head_revision()
OLDER = "0006_sessions"


def _set_revision(database_url: str, revision: str) -> None:
    """Put the database's alembic_version row at `revision` (the schema itself unchanged)."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        return

    async def update() -> None:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute("UPDATE alembic_version SET version_num = $1", revision)
        finally:
            await connection.close()

    asyncio.run(update())


@pytest.fixture
def behind(database_url: str) -> Iterator[str]:
    """The test database, its revision put one behind the head (put back afterwards)."""
    _set_revision(database_url, OLDER)
    try:
        yield database_url
    finally:
        _set_revision(database_url, HEAD)


def test_the_head_is_the_one_alembic_finds() -> None:
    from alembic.script import ScriptDirectory

    from authgate.store.migrate import alembic_config

    alembic_head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert alembic_head == HEAD
    assert OLDER != HEAD


def test_two_heads_are_refused(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
        (folder / "a.py").write_text('revision = "a"\ndown_revision = None\n')
        (folder / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    assert shipped_revisions(one) == Revisions(head="b", known=frozenset({"a", "b"}))
    (two / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    with pytest.raises(RevisionError, match="2 heads"):
        shipped_revisions(two)


@pytest.mark.slow
def test_the_serving_process_finds_the_head_without_alembic_or_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "from authgate.app import create_app\n"
        "from authgate.settings import Settings\n"
        "from authgate.store.revisions import head_revision\n"
        f"create_app(Settings(database_url='sqlite:///:memory:', secret_key='{'k' * 40}'))\n"
        "print(head_revision())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [HEAD, "[]"]


def test_ready_on_a_migrated_database(api: Api) -> None:
    live = api.http.get("/healthz")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = api.http.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "checks": {"database": "ok"}},
    )
    assert api.http.head("/readyz").status_code == 200
    assert ready.headers["content-type"] == "application/json"


def test_a_database_behind_the_newest_revision_is_named(
    behind: str, serve: Callable[..., Api]
) -> None:
    api = serve()
    ready = api.http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"database": f"not migrated: at revision {OLDER}, this version needs {HEAD}"},
    }
    # Liveness does no I/O: the process is fine, restarting it would not help.
    assert api.http.get("/healthz").status_code == 200
    _set_revision(behind, HEAD)
    assert api.http.get("/readyz").status_code == 200


def _drop_revision_table(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            connection.execute("DROP TABLE alembic_version")
        return

    async def drop() -> None:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute("DROP TABLE alembic_version")
        finally:
            await connection.close()

    asyncio.run(drop())


def _restore_revision_table(database_url: str) -> None:
    create = "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) PRIMARY KEY)"
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            connection.execute(create)
            if connection.execute("SELECT COUNT(*) FROM alembic_version").fetchone()[0] == 0:
                connection.execute("INSERT INTO alembic_version VALUES (?)", (HEAD,))
        return

    async def restore() -> None:
        import asyncpg

        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute(create)
            if await connection.fetchval("SELECT COUNT(*) FROM alembic_version") == 0:
                await connection.execute("INSERT INTO alembic_version VALUES ($1)", HEAD)
        finally:
            await connection.close()

    asyncio.run(restore())


def test_a_database_without_a_schema_is_named(database_url: str, serve: Callable[..., Api]) -> None:
    # The app cannot start without a schema (`serve` migrates first): this one loses its
    # schema while it runs, as when the database is recreated under it.
    api = serve()
    _drop_revision_table(database_url)
    try:
        ready = api.http.get("/readyz")
        live = api.http.get("/healthz")
    finally:
        _restore_revision_table(database_url)
    assert ready.status_code == 503
    assert ready.json()["checks"] == {
        "database": "not migrated: no schema (run `authgate migrate`)"
    }
    assert live.status_code == 200
    assert api.http.get("/readyz").status_code == 200


def test_a_database_a_newer_version_migrated_stays_ready(
    database_url: str, serve: Callable[..., Api], caplog: pytest.LogCaptureFixture
) -> None:
    # A rolling upgrade: the new version migrated, this one serves on until it is replaced.
    api = serve()
    _set_revision(database_url, "9999_from_the_future")
    try:
        with caplog.at_level(logging.WARNING, logger="authgate.http.health"):
            answers = [api.http.get("/readyz") for _ in range(3)]
    finally:
        _set_revision(database_url, HEAD)
    assert [a.status_code for a in answers] == [200, 200, 200]
    said = [r.getMessage() for r in caplog.records if r.name == "authgate.http.health"]
    assert said == [
        f"the database is at revision 9999_from_the_future, newer than this version's {HEAD}:"
        " serving on"
    ]


def test_an_unreachable_redis_is_named(serve: Callable[..., Api]) -> None:
    api = serve(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    ready = api.http.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unreachable (")
    # The answer names the check, never the address it could not reach.
    assert "127.0.0.1" not in ready.text
    assert api.http.get("/healthz").status_code == 200


@pytest.fixture
def frozen_redis() -> Iterator[str]:
    """An address that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def test_a_frozen_redis_fails_the_probe_instead_of_hanging_it(
    frozen_redis: str, serve: Callable[..., Api]
) -> None:
    api = serve(redis_url=frozen_redis)
    ready = api.http.get("/readyz", timeout=10)
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis"] != "ok"


@pytest.mark.skipif(TEST_REDIS_URL is None, reason="AUTHGATE_TEST_REDIS_URL is not set")
def test_ready_with_redis(serve: Callable[..., Api]) -> None:
    ready = serve(redis_url=TEST_REDIS_URL).http.get("/readyz")
    assert (ready.status_code, ready.json()["checks"]) == (200, {"database": "ok", "redis": "ok"})


def test_probes_are_never_throttled_nor_audited(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    tight = {
        "throttle_login_per_client": "1/hour",
        "throttle_register_per_client": "1/hour",
        "throttle_probe_per_client": "1/hour",
        "audit_flush_seconds": 0,
    }
    api = serve(**tight)
    for _ in range(30):
        assert api.http.get("/healthz").status_code == 200
        assert api.http.get("/readyz").status_code == 200
    # The audit log works (a failed login is in it), and holds nothing of the probes.
    api.http.post("/auth/token/login/", json={"username": "nobody", "password": "Wrong-Horse-1"})

    async def entries() -> list[str]:
        store = open_store(make_settings().database_url, pool_size=1)
        await store.connect()
        try:
            return [event.event for event in await store.audit_events(AuditQuery())]
        finally:
            await store.close()

    events = asyncio.run(entries())
    assert len(events) == 1, events
    assert "login" in events[0]


def test_a_change_of_readiness_is_logged_once(
    behind: str, serve: Callable[..., Api], caplog: pytest.LogCaptureFixture
) -> None:
    api = serve()
    with caplog.at_level(logging.WARNING, logger="authgate.http.health"):
        for _ in range(3):
            assert api.http.get("/readyz").status_code == 503
        _set_revision(behind, HEAD)
        for _ in range(3):
            assert api.http.get("/readyz").status_code == 200
    said = [r.getMessage() for r in caplog.records if r.name == "authgate.http.health"]
    assert said == [
        f"not ready: database: not migrated: at revision {OLDER}, this version needs {HEAD}",
        "ready again",
    ]


def test_the_docker_health_check_asks_readyz() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    check = dockerfile[dockerfile.index("\nHEALTHCHECK ") :].split("\n\n", 1)[0]
    assert "http://127.0.0.1:8000/readyz" in check
    assert "jwks" not in check
