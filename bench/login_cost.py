"""What a login costs around its password hash, measured in process, without HTTP or wrk.

    .venv/bin/python bench/login_cost.py                       # CPU µs per login, SQLite
    .venv/bin/python bench/login_cost.py --postgres URL        # ... on a scratch PostgreSQL
    .venv/bin/python bench/login_cost.py --callgrind           # instructions per login
    .venv/bin/python bench/login_cost.py --profile             # cProfile of the loop
    .venv/bin/python bench/login_cost.py --production-argon2   # per thread, the real hash

A login is argon2id-bound: at production cost the hash is some 15 ms of the ~20 ms a login
takes, and what this module looks for is the rest. So the app is built with a cheap argon2id
cost (as the test suite builds it: every verification still runs on the hashing pool, so the
thread hand-offs are counted) and `POST /auth/token/login/` is called through the ASGI entry
(uvicorn's HTTP parsing, the same for every request, is left out). Throttling and lockout stay
on, with limits that one client logging in all the time does not reach (as bench/run.py's).

`--callgrind` runs the measurement under valgrind twice, a short and a long loop, and prints
(long - short) / extra logins: an instruction count the machine's load cannot move. It counts
every thread (the hashing pool and SQLite's writer included) but not the kernel's share.

Each run's figure comes with each thread's share (the event loop's MainThread, the hashing
thread, SQLite's writer); the process is pinned to core 0, as a benchmarked server is.
`--production-argon2` builds the app at the settings' argon2id cost instead: the same work
around the hash as the cheap run's, but after each 19 MiB hash has pushed it out of the CPU's
caches (compare the loop's and the writer's figures of the two runs).

A benchmark, not a test: it asserts nothing but that every login succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PASSWORD = "Login-Cost-Horse-7"
USERS = 100
SECRET_KEY = "login-cost-secret-" + "k" * 32
LIMITS = "1000000/minute"


def settings_values(database_url: str) -> dict[str, object]:
    return {
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "throttle_login_per_client": LIMITS,
        "throttle_login_per_account": LIMITS,
        "throttle_register_per_client": LIMITS,
        "throttle_probe_per_client": LIMITS,
        "throttle_probe_per_account": LIMITS,
        # The revocation feed polls on the wall clock, which valgrind stretches.
        "revocation_poll_seconds": 3600,
    }


def scope_of(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
        "scheme": "http",
        "http_version": "1.1",
    }


async def call(app: Any, path: str, body: bytes) -> int:
    """Status of one POST through the app's ASGI entry."""
    status = 0

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(scope_of(path), receive, send)
    return status


def thread_seconds() -> dict[str, float]:
    """CPU seconds of each Python thread of this process, by name."""
    seconds = {}
    for thread in threading.enumerate():
        if thread.ident is not None:
            seconds[thread.name] = time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return seconds


async def measure(
    database_url: str, logins: int, profile: Path | None, *, production: bool = False
) -> dict[str, float]:
    """CPU µs per login in this process: "all" its threads, and each thread by name."""
    from authgate.app import create_app
    from authgate.core.passwords import Argon2Cost
    from authgate.settings import Settings

    settings = Settings(_env_file=None, **settings_values(database_url))  # type: ignore[arg-type]
    cheap = Argon2Cost(time_cost=1, memory_cost_kib=8, parallelism=1)
    app = create_app(settings, argon2=None if production else cheap)
    async with app.router.lifespan_context(app):
        bodies = []
        for i in range(USERS):
            user = f'{{"username": "costuser{i}", "password": "{PASSWORD}"}}'.encode()
            status = await call(app, "/auth/users/", user)
            assert status in (201, 400), status  # noqa: S101 (400: made by an earlier run)
            bodies.append(user)
        for i in range(2 * USERS):  # warm up: every user once, the caches, the pools
            await call(app, "/auth/token/login/", bodies[i % USERS])
        statuses: set[int] = set()
        profiler = None
        if profile is not None:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started, threads = time.process_time(), thread_seconds()
        for i in range(logins):
            statuses.add(await call(app, "/auth/token/login/", bodies[(i * 37) % USERS]))
        spent = time.process_time() - started
        per_thread = {
            name: (seconds - threads.get(name, 0.0)) / logins * 1e6
            for name, seconds in thread_seconds().items()
        }
        if profiler is not None and profile is not None:
            profiler.disable()
            profiler.dump_stats(profile)
    assert statuses == {200}, statuses  # noqa: S101 every login a success
    return {"all": spent / logins * 1e6} | {k: v for k, v in per_thread.items() if v > 0}


def empty_postgres(url: str) -> None:
    """A scratch database emptied of authgate's tables, so every run starts alike."""
    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await connection.close()

    asyncio.run(drop())


def child(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="authgate-login-cost-") as scratch:
        if args.postgres:
            empty_postgres(args.postgres)
            url = args.postgres
        else:
            url = f"sqlite:///{Path(scratch) / 'login.sqlite3'}"
        from authgate.store.migrate import upgrade

        upgrade(url)  # (runs its own event loop)
        profile = Path(args.profile_out) if args.profile_out else None
        os.sched_setaffinity(0, {0})  # the threads share one core, as a pinned server's
        figures = asyncio.run(measure(url, args.logins, profile, production=args.production_argon2))
        print(json.dumps(figures))


def run_child(args: argparse.Namespace, logins: int, wrapper: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env["PYTHONHASHSEED"] = "0"
    command = [*wrapper, sys.executable, __file__, "--child", "--logins", str(logins)]
    if args.postgres:
        command += ["--postgres", args.postgres]
    if args.profile_out:
        command += ["--profile-out", args.profile_out]
    if args.production_argon2:
        command.append("--production-argon2")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return done.stdout


def instructions(args: argparse.Namespace, logins: int, out: Path) -> int:
    run_child(args, logins, ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"])
    total = re.search(r"^(?:summary|totals): (\d+)", out.read_text(errors="replace"), re.M)
    if total is None:
        raise SystemExit(f"no callgrind total in {out}")
    return int(total.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="a scratch PostgreSQL database's URL (emptied)")
    parser.add_argument("--logins", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--production-argon2", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    database = "PostgreSQL" if args.postgres else "SQLite"
    if args.callgrind:
        with tempfile.TemporaryDirectory(prefix="authgate-login-cost-") as scratch:
            short_logins, long_logins = args.logins // 5, args.logins
            short = instructions(args, short_logins, Path(scratch) / "short.out")
            long = instructions(args, long_logins, Path(scratch) / "long.out")
        figure = (long - short) / (long_logins - short_logins)
        print(f"{database}: {figure:,.0f} instructions per login")
        return
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="authgate-login-cost-") as scratch:
            args.profile_out = str(Path(scratch) / "login.prof")
            run_child(args, args.logins, [])
            import pstats

            stats = pstats.Stats(args.profile_out)
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(40)
        return
    if args.production_argon2:
        database += ", production argon2id"
    logins = min(args.logins, 300) if args.production_argon2 else args.logins  # ~20 ms each
    figures = []
    for _ in range(args.rounds):
        measured = json.loads(run_child(args, logins, []).strip().splitlines()[-1])
        figures.append(measured.pop("all"))
        threads = "  ".join(f"{name} {spent:.1f}" for name, spent in measured.items())
        print(f"{database}: {figures[-1]:7.1f} µs CPU per login  ({threads})")
    print(f"{database}: median {sorted(figures)[len(figures) // 2]:.1f} µs CPU per login")


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
