"""Test helpers: a live uvicorn server in a thread, and an SMTP server that keeps what it gets."""

from __future__ import annotations

import asyncio
import getpass
import os
import re
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from starlette.applications import Starlette
from starlette.types import ASGIApp

from authgate.app import create_app
from authgate.core.passwords import Argon2Cost
from authgate.settings import Settings

CHEAP_ARGON2 = Argon2Cost(time_cost=1, memory_cost_kib=8, parallelism=1)
"""argon2id at its least cost, for the tests where hashing is not what is checked: a hash costs
well under a millisecond instead of 20-30 ms (each server start hashes once, each register and
login once more). Settings cannot go below OWASP's minimum, so this is passed to create_app
in code; tests/core/test_passwords.py, servers started as processes (`authgate serve`) and
the tests marked `production_argon2` hash at the settings' cost."""


class ShiftedClock:
    """authgate's clock (create_app's `clock`): the system's time plus an offset the test sets.
    Set ahead, what expires by this clock has expired without a wait; set behind, something
    happened that long ago. PyJWT judges `exp` and `iat` by the system's time, so for JWTs
    it is only ever set behind."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        """time.monotonic() shifted alike: the clock of the in-memory counters (lockout and
        throttling, authgate.core.counters), which measure expiries on it (`waits_on`)."""
        return time.monotonic() + self.offset.total_seconds()

    async def sleep(self, seconds: float) -> None:
        """A wait that sets the clock ahead instead of passing real time (`waits_on`)."""
        self.offset += timedelta(seconds=seconds)
        await asyncio.sleep(0)


@contextmanager
def waits_on(clock: ShiftedClock) -> Iterator[None]:
    """What the lockout measures and waits on is `clock`, for every app created meanwhile:
    the in-memory counters' expiries (authgate.core.counters.Counters) and the account-wide
    delay (authgate.core.lockout.Lockout's sleep). A lock then expires when the clock is set
    ahead, and a delay sets it ahead, without a wait. (The app's wiring creates both with
    their defaults, the system's clock and asyncio.sleep: those defaults are swapped here.)"""
    from authgate.core.counters import Counters
    from authgate.core.lockout import Lockout

    counters = Counters.__init__.__kwdefaults__
    lockout = Lockout.__init__.__defaults__
    assert counters is not None
    assert counters["clock"] is time.monotonic
    assert lockout == (asyncio.sleep,)
    counters["clock"] = clock.monotonic
    Lockout.__init__.__defaults__ = (clock.sleep,)
    try:
        yield
    finally:
        counters["clock"] = time.monotonic
        Lockout.__init__.__defaults__ = lockout


@contextmanager
def live_server(
    settings: Settings,
    *,
    argon2: Argon2Cost | None = CHEAP_ARGON2,
    clock: ShiftedClock | None = None,
) -> Iterator[str]:
    """Serve create_app(settings) on a free loopback port; yields its base URL. `argon2`:
    the hashing cost (None: the settings' own); `clock`: authgate's (None: the system's)."""
    with serve_app(create_app(settings, argon2=argon2, clock=clock)) as url:
        yield url


@contextmanager
def serve_app(app: ASGIApp, port: int = 0) -> Iterator[str]:
    """Serve any ASGI app with uvicorn in a thread on `port` (0: a free one); yields its base
    URL, and stops the server on the way out."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = _PromptServer(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.stop()
        thread.join(timeout=10)


IN_PROCESS_URL = "http://127.0.0.1:9"
"""The base URL of an app served in this process (`in_process`): a loopback host as a live
server's (authgate's cookies and links depend on the host), and the discard port, where
nothing listens, so that a request that leaves the process by mistake fails at once."""


@contextmanager
def in_process(app: Starlette) -> Iterator[httpx.BaseTransport]:
    """Serve `app` in this process, without a socket: its lifespan and every request run on an
    event loop in a thread of their own, as under uvicorn (the app's background tasks go on
    between requests, and the tests' blocking calls block only the test). Yields a transport
    for a synchronous httpx client. For the tests where the wire is not the point: uvicorn's
    parsing, its limits and its headers (`date`, `server`) are not there; an exception the app
    lets out is a 500, as uvicorn answers it."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    lifespan = app.router.lifespan_context(app)

    def call(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    try:
        call(lifespan.__aenter__())
        try:
            yield _LoopTransport(httpx.ASGITransport(app, raise_app_exceptions=False), call)
        finally:
            call(lifespan.__aexit__(None, None, None))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


class _LoopTransport(httpx.BaseTransport):
    """A synchronous httpx transport that hands each request to an ASGITransport on the app's
    loop (in_process) and waits for its whole answer."""

    def __init__(self, asgi: httpx.ASGITransport, call: Callable[[Any], Any]) -> None:
        self._asgi = asgi
        self._call = call

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # its stream is then bytes, which an async transport reads as well

        async def answer() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=httpx.ByteStream(content),
                extensions=response.extensions,
            )

        response: httpx.Response = self._call(answer())
        return response


class _PromptServer(uvicorn.Server):
    """uvicorn that stops as soon as it is told. uvicorn's own loop sees `should_exit` at its
    next 0.1 s tick and its shutdown then sleeps a fixed 0.1 s before waiting for the
    connections: about 0.15 s per test server, of which hundreds start in a run. Here the
    loop wakes when stopped, and the wait for connections and tasks polls every 5 ms; what
    shuts down and in which order is uvicorn's."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

    def stop(self) -> None:
        """Called from the test's thread."""
        self.should_exit = True
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None:  # else main_loop has yet to see should_exit
            with suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(woken.set)

    async def main_loop(self) -> None:
        self._woken = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        # on_tick(0) refreshes the Date header (uvicorn: once a second) and says whether to stop.
        while not await self.on_tick(0):
            with suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), 1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for listener in self.servers:
            listener.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        while self.server_state.connections or self.server_state.tasks:
            await asyncio.sleep(0.005)
        for listener in self.servers:
            await listener.wait_closed()
        await self.lifespan.shutdown()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """Messages received by the test SMTP server."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, *, count: int = 1, timeout: float = 10.0) -> list[Message]:
        """The messages sent to `to`, once at least `count` have arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages if m["To"] == to]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd) on a free port."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def link_parts(message: Message) -> tuple[str, str]:
    """(uid, token) from the link in an activation or reset email."""
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    match = re.search(r"/([A-Za-z0-9_-]+)/([0-9a-z]+-[0-9a-f]+)\s", body.decode())
    assert match, body
    return match.group(1), match.group(2)


class Api:
    """An httpx client for a live server, with helpers that go through the public API."""

    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None) -> None:
        self.transport = transport
        """The in-process app's (tests.support.in_process), None for a live server."""
        self.http = httpx.Client(base_url=base_url, timeout=30, transport=transport)

    def register(self, username: str, password: str = "Correct-Horse-9", **extra: object) -> Any:
        response = self.http.post(
            "/auth/users/", json={"username": username, "password": password, **extra}
        )
        assert response.status_code == 201, response.text
        return response.json()

    def login(self, username: str, password: str = "Correct-Horse-9") -> str:
        response = self.http.post(
            "/auth/token/login/", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["auth_token"]
        return token

    def as_user(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Token {token}"}


def run_cli(
    settings: Settings,
    *args: str,
    password: str | None = None,
    stdin: str | None = None,
    expect_code: int = 0,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the `authgate` command against the settings' database: its entry point (main) in
    this process, with the arguments, environment and standard streams of a run of its own;
    or, with `process`, the real command in a child process, for the tests of the command
    itself (a child costs an interpreter start and authgate's imports, about a second)."""
    env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("AUTHGATE_")}
    env["AUTHGATE_DATABASE_URL"] = settings.database_url
    env["AUTHGATE_SECRET_KEY"] = settings.secret_key.get_secret_value()
    if password is not None:
        env["AUTHGATE_SUPERUSER_PASSWORD"] = password
    done = (run_apart if process else run_here)(args, env, stdin=stdin)
    assert done.returncode == expect_code, done.stderr
    return done


def run_apart(
    args: tuple[str, ...],
    env: Mapping[str, str | None],
    *,
    stdin: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m authgate ARGS` as a child, with this process's environment changed by `env`
    (None: unset)."""
    environment = {k: v for k, v in (os.environ | dict(env)).items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "authgate", *args],
        env=environment,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_here(
    args: tuple[str, ...],
    env: Mapping[str, str | None],
    *,
    stdin: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """As run_apart, through the command's entry point in this process: its arguments, its
    environment (as it was again afterwards, whatever the command set), its working folder
    and its standard streams are the run's own meanwhile. Not for `serve`, which would
    serve here and configure this process's logging."""
    from click.testing import CliRunner

    from authgate import cli

    assert args[:1] != ("serve",), "serve runs apart"
    argv, environment, folder = sys.argv, dict(os.environ), Path.cwd()
    code: int | str | None = 0
    with CliRunner().isolation(input=stdin, env=env) as (out, err, _), warnings.catch_warnings():
        # A password prompt reads the given input as from a pipe, which getpass warns of.
        warnings.simplefilter("ignore", getpass.GetPassWarning)
        sys.argv = ["authgate", *args]
        try:
            if cwd is not None:
                os.chdir(cwd)
            cli.main()
        except SystemExit as exit_:
            code = exit_.code
        finally:
            sys.argv = argv
            os.chdir(folder)
            for name in os.environ.keys() - environment.keys():
                del os.environ[name]
            os.environ.update(environment)
    if isinstance(code, str):  # sys.exit("message"): Python prints it and exits 1
        err.write(f"{code}\n".encode())
    returncode = 1 if isinstance(code, str) else code or 0
    return subprocess.CompletedProcess(
        ["authgate", *args], returncode, out.getvalue().decode(), err.getvalue().decode()
    )


def run(coro: Any) -> Any:
    """Run a coroutine to completion (for core-level checks outside a server)."""
    return asyncio.run(coro)


def scratch_postgres(name: str) -> str:
    """A fresh, migrated PostgreSQL database beside the test one (for tests that run real
    server processes and must not share the test database); skips without PostgreSQL.
    tests.support.empty_postgres names it and empties it."""
    from authgate.store.migrate import upgrade

    url = empty_postgres(name)
    upgrade(url)
    return url


def empty_postgres(name: str) -> str:
    """The URL of a PostgreSQL database beside the test one, with nothing in it: created when
    missing, else its `public` schema dropped and made again (what a new database holds: a
    DROP DATABASE forces a checkpoint of the whole server, which takes seconds when other
    databases are busy). Skips without PostgreSQL. Its name is `name` and the test
    database's (`name_test`; under pytest-xdist the worker's own, `name_test_gw1`), so that
    neither another worker nor another checkout testing on a database of its own uses it."""
    import asyncpg
    import pytest

    from tests.conftest import POSTGRES_URL  # the variable's, or the local one found

    if POSTGRES_URL is None:
        pytest.skip("AUTHGATE_TEST_POSTGRES_URL is not set")
    base, _, database = POSTGRES_URL.partition("?")[0].rpartition("/")
    name = f"{name}_{database}"
    url = f"{base}/{name}"

    async def empty() -> None:
        admin = await asyncpg.connect(base + "/postgres")
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await admin.execute(f'CREATE DATABASE "{name}"')
                return
            # What DROP DATABASE ... WITH (FORCE) did: no earlier test's server (a killed or
            # frozen one's included) keeps a connection, or a lock, in the way.
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        finally:
            await admin.close()
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await connection.close()

    asyncio.run(empty())
    return url


PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def rsa_key_files(directory: Path, name: str) -> tuple[rsa.RSAPrivateKey, Path, Path]:
    """A new RSA key as <name>.pem and <name>.pub.pem (key_files)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, *key_files(directory, name, key)


def key_files(directory: Path, name: str, key: PrivateKey) -> tuple[Path, Path]:
    """`key` as <name>.pem (private, PKCS#8) and <name>.pub.pem, as authgate reads them
    (AUTHGATE_JWT_PRIVATE_KEY_FILE, ..._NEXT_/..._RETIRED_PUBLIC_KEY_FILES)."""
    private = directory / f"{name}.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = directory / f"{name}.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Whether `check` holds within `timeout` seconds, asked every 50 ms (the revocation
    feed's poll): for what another process makes true in its own time."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
