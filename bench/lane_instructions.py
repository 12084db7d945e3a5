"""Instructions per fast-lane answer, in process, counted by callgrind; and the SQL statements
each answer runs.

    .venv/bin/python bench/lane_instructions.py --case check_token
    .venv/bin/python bench/lane_instructions.py --case me_session --postgres postgresql://...
    .venv/bin/python bench/lane_instructions.py --case me --sql      # statements only, no valgrind

bench/lane_cost.py times the lane's answers in process (CPU time, which the neighbours' load
moves by a tenth); bench/instructions.py counts a whole server's instructions, uvicorn
included. This counts the app's own instructions per answer, the same figure run after run: a
child process, under callgrind with its counting off, calls the app's ASGI entry for one case,
warm (the credentials resolved before), and turns the counting on (`vgdb ... instrumentation
on`) for just the `--calls` answers: start-up, imports and warm-up run uncounted, at a
fraction of the cost, and the total over the calls is the figure (the two vgdb calls add a
few hundred instructions per answer at 2,000 calls, the same on either side of a
comparison). The `--sql` run instead counts the statements the driver is asked to run during
the calls (a cache hit should run none), on SQLite or `--postgres` (a scratch database,
emptied). Cases: bench/lane_cost.py's, and `me_session` (`GET /auth/users/me/` with a session
cookie, the Djoser dialect taking sessions). The clock never makes a last_used_at write fall
due mid-run (the credentials are fresh and the run short). Hashing runs at the cheapest
argon2id cost (no answer counted hashes). Needs valgrind. A benchmark: it asserts nothing but
that every answer is the lane's 200.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import lane_cost
from bench.login_cost import empty_postgres

# bench/lane_cost.py's cases, and me_session: its user's session cookie from a login to the
# Djoser dialect with sessions on login (the login's token is unused).
CASES = {**lane_cost.CASES, "me_session": ("GET", "/auth/users/me/", b"")}
LOGINS = {**lane_cost.LOGINS, "me_session": lane_cost.LOGINS["me"]}
CASE_SETTINGS: dict[str, dict[str, object]] = {
    **lane_cost.CASE_SETTINGS,
    "me_session": {
        "authentication": {"djoser": ["token", "jwt", "session"]},
        "create_session_on_login": True,
        "cookie_secure": False,
    },
}
# The statements a driver is asked to run (store/driver.py's methods).
DRIVER_METHODS = ("fetch_one", "fetch_all", "write", "write_returning", "write_many", "transaction")


def _count_statements(driver: Any, counts: dict[str, int]) -> None:
    """Count each call of the driver's statement methods (an instance attribute over each)."""
    for name in DRIVER_METHODS:
        method = getattr(driver, name)

        def counted(*args: Any, _method: Any = method, _name: str = name, **kw: Any) -> Any:
            counts[_name] = counts.get(_name, 0) + 1
            return _method(*args, **kw)

        setattr(driver, name, counted)


@asynccontextmanager
async def prepared(case: str, database: str) -> AsyncIterator[tuple[Any, dict[str, Any], bytes]]:
    """The started app over `database`, a user logged in, and the case's scope and body."""
    import httpx

    from authgate.app import create_app
    from authgate.core.passwords import Argon2Cost
    from authgate.settings import Settings

    values: dict[str, object] = {"database_url": database, "secret_key": "b" * 48}
    values |= CASE_SETTINGS.get(case, {})
    # Hashing is no part of an answer of the lane, and production argon2id under valgrind
    # takes minutes: the cheapest cost (the login's hash only).
    cheap = Argon2Cost(time_cost=1, memory_cost_kib=8, parallelism=1)
    app = create_app(Settings(_env_file=None, **values), argon2=cheap)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            user = {
                "username": "bench",
                "email": "bench@example.com",
                "password": lane_cost.PASSWORD,
            }
            await client.post("/auth/users/", json=user)
            login, fields, key, keyword = LOGINS[case]
            answer = await client.post(login, json={f: user[f] for f in fields})
            token = answer.json()[key]
            cookie = answer.cookies.get("authgate_session")
            method, path, body = CASES[case]
            if "{id}" in path:
                # user_get's `/user/{id}/`: the user's own record, which every visibility
                # shows (sent as the template, `{id}` is no user's id: the view's 404)
                me = await client.get(
                    "/auth/users/me/", headers={"Authorization": f"Token {token}"}
                )
                path = path.format(id=me.json()["id"])
        headers = [(b"host", b"bench"), (b"content-type", b"application/json")]
        if case == "me_session":
            headers.append((b"cookie", f"authgate_session={cookie}".encode()))
        else:
            headers.append((b"authorization", f"{keyword} {token}".encode()))
        scope = lane_cost.scope_of(method, path, headers)
        yield app, scope, body


async def run(
    case: str, calls: int, database: str, sql: bool, *, counting: bool = False
) -> tuple[dict[str, int], float]:
    """The statements the calls ran (when `sql`), and the process CPU seconds they took."""
    counts: dict[str, int] = {}
    statuses: list[int] = []
    async with prepared(case, database) as (app, scope, body):

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[call-overload]

        for _ in range(200):  # warm: caches, the lane's first answers
            await app(dict(scope), receive, send)
        if sql:
            _count_statements(app_store_driver(), counts)
        if counting:
            _instrument("on")
        started = time.process_time()
        for _ in range(calls):
            await app(dict(scope), receive, send)
        spent = time.process_time() - started
        if counting:
            _instrument("off")
        counted = dict(counts)
    assert set(statuses) == {200}, set(statuses)  # noqa: S101 every answer the lane's success
    return counted, spent


def app_store_driver() -> Any:
    """The driver under the app's store (the only SqlStore of the process)."""
    import gc

    from authgate.store.sql_store import SqlStore

    stores = [o for o in gc.get_objects() if isinstance(o, SqlStore)]
    return stores[0]._driver


def _instrument(state: str) -> None:
    """Turn callgrind's counting of this process on or off (it runs with it off at start)."""
    command = ["vgdb", f"--pid={os.getpid()}", "instrumentation", state]
    subprocess.run(command, check=True, capture_output=True)


def instructions(case: str, calls: int, database: str) -> int:
    """callgrind's instruction count of `calls` answers, in a child that turns the counting
    on just before them and off just after (start-up, imports and warm-up run uncounted, at
    a fraction of the cost)."""
    with tempfile.TemporaryDirectory(prefix="authgate-lane-ir-") as scratch:
        out = Path(scratch) / "callgrind.out"
        child = [sys.executable, __file__, "--child", case, str(calls), database]
        callgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        command = [*callgrind, f"--callgrind-out-file={out}", *child]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
        env["PYTHONHASHSEED"] = "0"
        subprocess.run(command, env=env, check=True, capture_output=True)
        text = out.read_text(errors="replace")
        # `summary` counts from the start; `totals` what the counting saw.
        totals = re.search(r"^totals: (\d+)", text, re.M)
        if totals is None:
            raise SystemExit(f"no callgrind total in {out}")
        return int(totals.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=tuple(CASES), action="append", help="default: all")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--postgres", help="a scratch PostgreSQL database (else a SQLite file)")
    parser.add_argument("--sql", action="store_true", help="count statements, no valgrind")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        case, calls, database = args.child
        _migrate(database)
        asyncio.run(run(case, int(calls), database, sql=False, counting=True))
        return
    for case in args.case or CASES:
        with tempfile.TemporaryDirectory(prefix="authgate-lane-ir-db-") as scratch:
            database = args.postgres or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
            if args.postgres:
                empty_postgres(args.postgres)
            if args.sql:
                _migrate(database)
                counts, spent = asyncio.run(run(case, args.calls, database, sql=True))
                per = {name: n / args.calls for name, n in counts.items()}
                print(
                    f"{case}: statements per answer {sum(per.values()):.4f} {per}"
                    f" ({spent / args.calls * 1e6:.1f} µs CPU per answer, counting)"
                )
                continue
            _compile_authgate()
            counted = instructions(case, args.calls, database)
            print(f"{case}: {counted / args.calls:,.0f} instructions per answer")


def _compile_authgate() -> None:
    """Write the bytecode of the authgate that the children import, beforehand: else the
    first run under callgrind, and only it, would count the compiling of changed modules."""
    code = "import authgate, compileall, pathlib; compileall.compile_dir("
    code += "pathlib.Path(authgate.__file__).parent, quiet=1)"
    subprocess.run([sys.executable, "-c", code], check=True)


def _migrate(database: str) -> None:
    from authgate.store.migrate import upgrade

    upgrade(database)


if __name__ == "__main__":
    main()
