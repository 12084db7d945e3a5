"""Peak and resident memory of a serving `authgate serve` worker, case by case.

    .venv/bin/python bench/memory.py
    .venv/bin/python bench/memory.py --postgres postgresql://postgres@127.0.0.1:5432/scratch
    .venv/bin/python bench/memory.py --cases login,register --requests 200 --cpu 0
    .venv/bin/python bench/memory.py --src /tmp/before/src   # another tree's authgate, this venv

Issue 14's target is the peak RSS (VmHWM) of a serving worker. bench/run.py reads it once per
(case, server) pair after a wrk run; this script says where it comes from, and does not need a
quiet machine (memory is not timing): for each case it starts a fresh `authgate serve` (one
worker, pinned like the bench's to one core, so one hashing thread) on a migrated, seeded
database, reads VmHWM and VmRSS once it answers, drives the case's requests over 16 keep-alive
connections (wrk's -c16) with a plain client, and reads them again. `--one-server` drives every
case in turn through one server instead, reading after each.

--postgres names a SCRATCH database: its auth_user and auth_token are emptied and re-seeded.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import random
import secrets
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.reference import env as reference
from bench.run import AUTHGATE_JWT_PATH, NEW_PASSWORD, PASSWORD, SECRET_KEY, mint_jwts
from bench.seed_authgate import ensure_postgres_database, seed_postgres, seed_sqlite

from authgate.dialects.cookie_jwt.views import AUDIENCE as COOKIE_JWT_AUDIENCE
from authgate.store.migrate import upgrade

CONNECTIONS = 16  # bench/run.py's wrk -c16
# Registering looks up the username and email, each a probe of whether an account exists
# (core/probes.py): 30 an hour per client by default, so raise it as the login limits are.
SETTINGS = {"AUTHGATE_THROTTLE_PROBE_PER_CLIENT": "1000000/minute"}
CASES = ("me", "check_token", "login", "register", "jwt_get")
SLOW_CASES = frozenset({"login", "register"})  # one argon2id hash each
# A request: method, path, headers, body.
Request = tuple[str, str, dict[str, str], bytes | None]


@dataclass(frozen=True, slots=True)
class Seeded:
    url: str
    users: int
    tokens: list[str]
    jwts: list[str]


def requests_of(case: str, seeded: Seeded) -> Iterator[Request]:
    """The endless stream of `case`'s requests, as bench/wrk/<case>.lua sends them."""
    rng = random.Random(secrets.randbits(32))
    prefix = f"m{secrets.token_hex(4)}n"
    json = {"Content-Type": "application/json"}
    for n in itertools.count():
        i = rng.randrange(seeded.users)
        if case == "me":
            yield "GET", "/auth/users/me/", {"Authorization": f"Token {seeded.tokens[i]}"}, None
        elif case == "check_token":
            body = f'{{"username": "user{i}"}}'.encode()
            headers = {"Authorization": f"Bearer {seeded.tokens[i]}", **json}
            yield "POST", "/api/v1/accounts/check_token/", headers, body
        elif case == "login":
            body = f'{{"username": "user{i}", "password": "{PASSWORD}"}}'.encode()
            yield "POST", "/auth/token/login/", json, body
        elif case == "register":
            name = f"{prefix}{n}"
            body = (
                f'{{"username": "{name}", "email": "{name}@example.com",'
                f' "password": "{NEW_PASSWORD}"}}'
            ).encode()
            yield "POST", "/auth/users/", json, body
        elif case == "jwt_get":
            yield "GET", AUTHGATE_JWT_PATH, {"Authorization": f"Bearer {seeded.jwts[i]}"}, None
        else:
            raise ValueError(f"unknown case {case}")


def drive(port: int, requests: Iterator[Request], count: int) -> dict[int, int]:
    """Send `count` requests over CONNECTIONS keep-alive connections; the count per status."""
    lock = threading.Lock()
    left = [count]
    statuses: dict[int, int] = {}

    def next_request() -> Request | None:
        with lock:
            if left[0] == 0:
                return None
            left[0] -= 1
            return next(requests)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            while (request := next_request()) is not None:
                method, path, headers, body = request
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def reading(pid: int) -> str:
    hwm, rss = (harness.proc_status_kib(pid, field) / 1024 for field in ("VmHWM", "VmRSS"))
    return f"VmHWM {hwm:6.1f} MiB  VmRSS {rss:6.1f} MiB"


def seed(url: str, users: int, workdir: Path, name: str) -> Seeded:
    upgrade(url)
    tokens_file = workdir / f"{name}-tokens.txt"
    seeding = seed_sqlite if url.startswith("sqlite:///") else seed_postgres
    seeding(url, users, PASSWORD, tokens_file)
    # /u/api/ accepts only its own tokens (bench/run.py's): without the audience, every
    # jwt_get was a 401, whose path loads less than a checked JWT's.
    jwts = mint_jwts(
        workdir / f"{name}-jwts.txt", SECRET_KEY, users, version=0, audience=COOKIE_JWT_AUDIENCE
    )
    return Seeded(
        url, users, tokens_file.read_text().split(), jwts.read_text(encoding="ascii").split()
    )


def measure(
    seeded: Seeded,
    cases: list[str],
    counts: Callable[[str], int],
    cpu: str,
    workdir: Path,
    env: dict[str, str],
    src: Path | None,
) -> None:
    """Start a server, read its memory, drive each case in turn reading after each."""
    port = reference.find_free_port()
    server = harness.start_authgate(
        port=port,
        database_url=seeded.url,
        secret_key=SECRET_KEY,
        cpu=cpu,
        workdir=workdir,
        settings=env,
        src=src,
    )
    try:
        (pid,) = harness.serving_pids(server.proc.pid)
        print(f"  {'started':12} {reading(pid)}", flush=True)
        for case in cases:
            statuses = drive(port, requests_of(case, seeded), counts(case))
            print(f"  {case:12} {reading(pid)}  statuses {statuses}", flush=True)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="a SCRATCH PostgreSQL database, measured too")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    parser.add_argument("--requests", type=int, default=3000, help="per fast case")
    parser.add_argument("--hashes", type=int, default=300, help="per login/register case")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--cpu", default="0", help="taskset's cores for the server")
    parser.add_argument("--one-server", action="store_true", help="every case in one server")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="more environment for the server (a setting, MALLOC_ARENA_MAX, ...); repeatable",
    )
    parser.add_argument(
        "--src",
        type=Path,
        help="serve the authgate package of this source tree's src/ (a before, as bench/ab.py)",
    )
    args = parser.parse_args(argv)
    cases = args.cases.split(",")
    env = dict(SETTINGS, **harness.assignments(args.env))

    def counts(case: str) -> int:
        return int(args.hashes if case in SLOW_CASES else args.requests)

    workdir = Path(tempfile.mkdtemp(prefix="authgate-memory-"))
    try:
        databases = {"SQLite": f"sqlite:///{workdir / 'authgate.sqlite3'}"}
        if args.postgres:
            ensure_postgres_database(args.postgres)
            databases["PostgreSQL"] = args.postgres
        for name, url in databases.items():
            seeded = seed(url, args.users, workdir, name)
            if args.one_server:
                print(f"{name}: one server, {', '.join(cases)}", flush=True)
                measure(seeded, cases, counts, args.cpu, workdir, env, args.src)
                continue
            for case in cases:
                print(f"{name}: fresh server, {case}", flush=True)
                measure(seeded, [case], counts, args.cpu, workdir, env, args.src)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
