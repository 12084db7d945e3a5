"""The two stand-ins bench/login_floor.py measures beside `authgate serve`, as uvicorn factories.

- `core_app`: authgate's own core (Logins.log_in_with_token: throttling, lockout, audit, the
  store, the token) behind a bare ASGI function: what a login costs without Starlette's
  middleware and routing and the DRF dialect's negotiation, parsing and rendering.
- `floor_app`: the least a token login can do: one indexed SELECT, argon2id on a worker thread,
  one write transaction (last_login, the token) on the SQLite writer's thread, a JSON answer.
  No throttling, lockout or audit: a floor, not a server.

Both read the database from the settings (AUTHGATE_DATABASE_URL), as authgate does; both
answer a wrong password with a bare 400. A benchmark's helpers, not a server to deploy.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import VerificationError

from authgate.composition import build_core
from authgate.constants import TOKEN_BYTES
from authgate.core.clock import SystemClock
from authgate.core.errors import AuthgateError
from authgate.core.events import NO_EVENTS
from authgate.core.identity import username_key
from authgate.core.tokens import digest
from authgate.http.callers import CallerMiddleware
from authgate.mailer import build_mailer
from authgate.settings import Settings
from authgate.store import open_store, sqlite_path
from authgate.store.drivers.sqlite import connect
from authgate.worker_threads import WorkerThreads

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Login = Callable[[str, str], Awaitable[str | None]]  # (username, password) -> raw token or None


def core_app() -> App:
    settings = Settings()
    store = open_store(settings.database_url)
    core = build_core(settings, store, build_mailer(settings), SystemClock(), NO_EVENTS)

    async def log_in(username: str, password: str) -> str | None:
        try:
            return await core.logins.log_in_with_token(login=username, password=password)
        except AuthgateError:
            return None

    async def start() -> None:
        await store.connect()
        await core.start()

    async def stop() -> None:
        await core.close()
        await store.close()

    return _lifespan(CallerMiddleware(_login_endpoint(log_in)), start, stop)


def floor_app() -> App:
    settings = Settings()
    path = sqlite_path(settings.database_url)
    # As the SQLite driver connects, and at the settings' argon2id cost, as authgate hashes.
    reader, writer_connection = connect(path), connect(path)
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )
    hashing, writer = WorkerThreads(1, name="password-hash"), WorkerThreads(1, name="sqlite-writer")
    select = "SELECT id, password FROM auth_user WHERE username_key = ? AND is_active"

    def verify(encoded: str, password: str) -> bool:
        try:
            return hasher.verify(encoded, password)
        except VerificationError:
            return False

    def record(user_id: int, raw: str) -> None:
        now = datetime.now(UTC).isoformat()
        writer_connection.execute("BEGIN IMMEDIATE")
        writer_connection.execute(
            "UPDATE auth_user SET last_login = ? WHERE id = ?", (now, user_id)
        )
        writer_connection.execute(
            "INSERT INTO auth_token (digest, user_id, created_at) VALUES (?, ?, ?)",
            (digest(raw), user_id, now),
        )
        writer_connection.execute("COMMIT")

    async def log_in(username: str, password: str) -> str | None:
        row = reader.execute(select, (username_key(username),)).fetchone()
        if row is None or not await hashing.run(functools.partial(verify, row[1], password)):
            return None
        raw = secrets.token_hex(TOKEN_BYTES)
        await writer.run(functools.partial(record, row[0], raw))
        return raw

    async def stop() -> None:
        hashing.close()
        writer.close()

    return _lifespan(_login_endpoint(log_in), _nothing, stop)


def _login_endpoint(log_in: Login) -> App:
    """Every HTTP request is a login: a JSON body with a username and a password."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        given = json.loads(body)
        raw = await log_in(given["username"], given["password"])
        status, answer = (400, b"{}") if raw is None else (200, json.dumps({"auth_token": raw}))
        out = answer if isinstance(answer, bytes) else answer.encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(out))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    return endpoint


async def _nothing() -> None:
    return None


def _lifespan(
    app: App, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
) -> App:
    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return served
