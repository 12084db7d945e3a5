"""Fixtures: a migrated database per test (SQLite always, PostgreSQL when configured), a live
server over it, and a real SMTP server.

PostgreSQL and Redis are configured by AUTHGATE_TEST_POSTGRES_URL and AUTHGATE_TEST_REDIS_URL,
or, when those are unset, found on their default local ports (once, at import, before any test
module reads the variables). The run ends with what was skipped and why.

Under pytest-xdist (`make test` runs workers in parallel), each worker gets its own services
before any test module is imported: the database `<name>_gw<N>` beside the configured one
(created when missing) and the Redis database index base + N; tests/support.py's
scratch_postgres names carry the worker's suffix too. Tests marked `alone` (they restart a
shared service) run while no other worker is inside a test module (tests/exclusive.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import ssl
import tempfile
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from bench.reference.env import DEFAULT_VENV_DIR, ReferenceUnavailableError, ensure_venv, migrate

from authgate.app import create_app
from authgate.core.passwords import Argon2Cost
from authgate.settings import Settings
from authgate.store.migrate import upgrade
from tests.exclusive import ModuleLock
from tests.log_capture import SessionLog
from tests.support import (
    CHEAP_ARGON2,
    IN_PROCESS_URL,
    Api,
    Mailbox,
    ShiftedClock,
    in_process,
    live_server,
    smtp_server,
)

LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"  # trust auth, database `test`
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
CONNECT_TIMEOUT_SECONDS = 0.5  # loopback: a service that is there answers in milliseconds


def _postgres_problem(url: str) -> str | None:
    """Why the PostgreSQL at `url` cannot be used, or None when it answers."""
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed"

    async def probe() -> None:
        connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return f"{type(error).__name__}: {error}".strip().rstrip(":")
    return None


def _redis_problem(url: str) -> str | None:
    """Why no Redis answers PING at the URL's host and port, or None when one does."""
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 6379)
    try:
        with socket.create_connection(address, timeout=CONNECT_TIMEOUT_SECONDS) as connection:
            connection.sendall(b"PING\r\n")
            answer = connection.recv(64)
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    return None if answer.startswith(b"+PONG") else f"it answered {answer[:40]!r} to PING"


def use_local(
    service: str, variable: str, local_url: str, problem_of: Callable[[str], str | None]
) -> str:
    """Set `variable` to `local_url` when it is unset and the service there answers (a set
    variable wins); returns one line saying what the run uses."""
    if os.environ.get(variable):
        return f"{service}: {variable} is set, used as given"
    problem = problem_of(local_url)
    if problem is not None:
        return f"{service}: not tested: {local_url} ({problem}); start it or set {variable}"
    os.environ[variable] = local_url
    return f"{service}: {local_url} answered (set {variable} to use another)"


def _share_default_tls_context() -> None:
    """Let every httpx client of the run share one default TLS context. httpx builds a new one
    for each client, loading certifi's trust store (about 65 ms); the tests make a client per
    server and more, nearly all of them for plain HTTP to loopback. A context with the same
    trust serves every TLS connection alike (none of the tests change it after building)."""
    import httpx
    import httpx._transports.default as transports

    build = httpx.create_ssl_context
    built: dict[tuple[bool, str | None, str | None], ssl.SSLContext] = {}

    def shared(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if verify is not True or cert is not None:
            return build(verify=verify, cert=cert, trust_env=trust_env)
        key = (trust_env, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        if key not in built:
            built[key] = build(verify=verify, cert=cert, trust_env=trust_env)
        return built[key]

    transports.create_ssl_context = shared  # type: ignore[attr-defined]  # where httpx calls it


_share_default_tls_context()
SERVICES = [
    use_local("PostgreSQL", "AUTHGATE_TEST_POSTGRES_URL", LOCAL_POSTGRES_URL, _postgres_problem),
    use_local("Redis", "AUTHGATE_TEST_REDIS_URL", LOCAL_REDIS_URL, _redis_problem),
]
POSTGRES_URL = os.environ.get("AUTHGATE_TEST_POSTGRES_URL")
WORKER: str | None = None
"""The pytest-xdist worker this process is ("gw0", "gw1", ...), None in a serial run."""
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
TEST_SECRET = "test-secret-key-that-is-long-enough-for-prod-0123456789"


def worker_postgres_url(url: str, worker: str) -> str:
    """The database `<name>_<worker>` beside the one `url` names, created when missing."""
    import asyncpg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_{worker}"
    own = parts._replace(path=f"/{name}").geturl()

    async def create() -> None:
        admin = await asyncpg.connect(parts._replace(path="/postgres").geturl())
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await admin.execute(f'CREATE DATABASE "{name}"')
        except asyncpg.DuplicateDatabaseError:
            pass  # created meanwhile by a run beside this one
        finally:
            await admin.close()

    asyncio.run(create())
    return own


def worker_redis_url(url: str, worker: str) -> str:
    """The URL of Redis database index base + N for worker gwN (base: the index `url` names)."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return parts._replace(path=f"/{base + int(worker.removeprefix('gw'))}").geturl()


def pytest_configure(config: pytest.Config) -> None:
    """In a pytest-xdist worker, give this worker its own PostgreSQL database and Redis
    index (the test modules, imported after this, read the variables)."""
    global POSTGRES_URL, WORKER
    config.addinivalue_line(
        "markers",
        "in_process: the `serve` fixture's servers run in this process, without a socket"
        " (tests/support.py in_process): for the tests where the wire is not the point",
    )
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is None:
        return  # a serial run: one test at a time
    # Machine-wide, as the service a test marked `alone` restarts is (other runs beside this).
    config.pluginmanager.register(ModuleLock(Path(tempfile.gettempdir()) / "authgate-tests.lock"))
    WORKER = str(workerinput["workerid"])
    if POSTGRES_URL:
        POSTGRES_URL = os.environ["AUTHGATE_TEST_POSTGRES_URL"] = worker_postgres_url(
            POSTGRES_URL, WORKER
        )
    if redis_url := os.environ.get("AUTHGATE_TEST_REDIS_URL"):
        os.environ["AUTHGATE_TEST_REDIS_URL"] = worker_redis_url(redis_url, WORKER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a test marked `slow` first, every module's tests still together and in
    their order: pytest-xdist (`make test`: --dist loadfile --no-loadscope-reorder) deals
    modules out in this order, and a long module dealt last runs on while the other worker
    has nothing left to do. Modules with a test marked `alone` last of all: dealt among the
    slow ones, such a module may wait for the other worker's long module to end, then keeps
    that worker waiting for its own length; dealt last, it waits at most for a module of
    quick tests, and holds up a worker that has nothing left to do."""
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    alone = {item.path for item in items if item.get_closest_marker("alone") is not None}
    # stable: the rest keeps its order
    items.sort(key=lambda item: (item.path in alone, item.path not in slow))


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


# The sequences the schema's tables own (their serial and identity columns).
_OWNED_SEQUENCES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(s.relname)
FROM pg_class s
JOIN pg_namespace n ON n.oid = s.relnamespace
JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE s.relkind = 'S' AND t.relname = ANY($1::text[]) AND pg_table_is_visible(t.oid)
"""


def empty_database(url: str) -> None:
    """Empty every table of the schema and restart its sequences, so each test starts from a
    fresh database: what `TRUNCATE ... RESTART IDENTITY CASCADE` leaves, at a tenth of its
    cost. A TRUNCATE gives each table new files (about 0.2 s for the schema's 15, paid by every
    PostgreSQL test); a DELETE of the few rows a test wrote is a few milliseconds. Children
    before parents, so that no foreign key is in the way."""
    import asyncpg

    from authgate.store.schema import metadata

    tables = [table.name for table in reversed(metadata.sorted_tables)]

    async def empty() -> None:
        connection = await asyncpg.connect(url)
        try:
            async with connection.transaction():
                sequences = [row[0] for row in await connection.fetch(_OWNED_SEQUENCES, tables)]
                await connection.execute(
                    "; ".join(
                        [f"DELETE FROM {table}" for table in tables]  # noqa: S608 the schema's names
                        + [f"ALTER SEQUENCE {sequence} RESTART" for sequence in sequences]
                    )
                )
        finally:
            await connection.close()

    asyncio.run(empty())


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database: a SQLite file, or the emptied PostgreSQL test database."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "authgate.sqlite3"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated")
    empty_database(url)
    return url


@pytest.fixture(scope="session")
def reference_python() -> Path:
    """The python of the scratch venv holding the pinned Django/DRF/SimpleJWT/Djoser of
    bench/reference (built once; .ci/run builds it before the tests, so CI never skips)."""
    try:
        return ensure_venv(DEFAULT_VENV_DIR)
    except ReferenceUnavailableError as error:
        pytest.skip(f"the reference Django stack cannot be installed here: {error}")


@pytest.fixture(scope="session")
def reference_database(reference_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file of the reference project, which each reference server's database
    starts as a copy of (a migration from scratch costs about as much as starting the server;
    start_server's own `migrate` then adds only what its settings install beyond it)."""
    path = tmp_path_factory.mktemp("reference-template") / "reference.sqlite3"
    migrate(reference_python, path)
    return path


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
def argon2(request: pytest.FixtureRequest) -> Argon2Cost | None:
    """The hashing cost of the test's servers: the least (tests.support.CHEAP_ARGON2), or
    the settings' own (None) for a test marked `production_argon2`."""
    if request.node.get_closest_marker("production_argon2") is not None:
        return None
    return CHEAP_ARGON2


@pytest.fixture
def serve(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    argon2: Argon2Cost | None,
) -> Iterator[Callable[..., Api]]:
    """Start a live server with setting overrides (and `clock`, authgate's: tests.support.
    ShiftedClock); returns an Api client for it. For a test marked `in_process`, the app
    is served in this process instead (no uvicorn, no socket: tests.support.in_process)."""
    stack: list[Any] = []
    here = request.node.get_closest_marker("in_process") is not None

    def start(*, clock: ShiftedClock | None = None, **overrides: Any) -> Api:
        settings = make_settings(**overrides)
        if here:
            app = create_app(settings, argon2=argon2, clock=clock)
            served = in_process(app)
            transport = served.__enter__()
            stack.append(served)
            return Api(IN_PROCESS_URL, transport)
        context = live_server(settings, argon2=argon2, clock=clock)
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


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return report.longrepr[2].removeprefix("Skipped: ")
    return str(report.longrepr)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Generator[None]:
    """Last, after pytest's own summary: which services were tested and every skip reason with
    its count, so that a run that quietly skipped PostgreSQL or Redis says so at its end."""
    yield
    terminalreporter.section("services and skips")
    for line in SERVICES:
        terminalreporter.write_line(line)
    if terminalreporter.config.pluginmanager.hasplugin("dsession"):  # pytest-xdist's controller
        terminalreporter.write_line(
            "pytest-xdist: each worker gwN on its own database <name>_gwN and Redis index base+N"
        )
    reasons = Counter(_skip_reason(report) for report in terminalreporter.stats.get("skipped", []))
    if not reasons:
        terminalreporter.write_line("skipped: none")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"skipped {count}: {reason}")
