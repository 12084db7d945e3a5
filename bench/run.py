"""Benchmark authgate against the real Djoser stack and a bare Starlette app; print a table.

    .venv/bin/python bench/run.py             # ~10 s per case (+ warm-up)
    .venv/bin/python bench/run.py --quick     # ~3 s per case
    .venv/bin/python bench/run.py --postgres postgresql://postgres@127.0.0.1:5432/authgate_bench
    .venv/bin/python bench/run.py --before a6c53f2   # + that revision's src/, run by run

A benchmark, not a test: it asserts nothing, it prints figures (a Markdown table, also written
to bench/results/latest.md) and flags runs that saw errors. Each server runs alone, pinned to
one core (`taskset -c 0`), with wrk pinned to the other (`taskset -c 1 wrk -t1 -c16`); every
(case, server) pair gets a fresh server process, a warm-up, a wait until the server is idle,
then the measured run. Progress goes to stderr, the report to stdout.

--postgres names a SCRATCH database: its auth_user, auth_token and auth_session tables are
emptied and re-seeded.

--before REV also serves the `src/` of another revision (`git archive`), with this venv, from the
same seeded databases: every authgate row gets a twin of REV measured just before it, and the
report compares the two. A case REV cannot serve is reported as absent for it.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import platform
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import jwt

if __package__ in (None, ""):  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.reference import env as reference
from bench.report import (
    AUTHGATE_PREFIX,
    BEFORE,
    CHECK_TOKEN,
    DJOSER,
    HELLO,
    JWT_GET,
    LOGIN,
    ME,
    ME_JWT,
    ME_SESSION,
    POSTGRES,
    REGISTER,
    ROOT,
    SQLITE,
    SQLITE_2W,
    SQLITE_BIG,
    USER_GET,
    Report,
    Run,
)
from bench.seed_authgate import (
    Seeded,
    ensure_postgres_database,
    seed_postgres,
    seed_sqlite,
    stagger_last_used,
)

from authgate.dialects.cookie_jwt.views import AUDIENCE as COOKIE_JWT_AUDIENCE
from authgate.http.session_cookie import session_cookie_name
from authgate.store.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
PASSWORD = "bench-Passw0rd!"  # every seeded user's; no JSON escaping needed
NEW_PASSWORD = "Kv9-trQm2wLx-pZ7q"  # registrations': passes Django's four validators
SECRET_KEY = "bench-secret-key-" + "0123456789abcdef" * 3
# The reference's SECRET_KEY (REFERENCE_SECRET_KEY), which SimpleJWT signs with by default.
REFERENCE_SECRET_KEY = "bench-reference-secret-key-" + "fedcba9876543210" * 3
JWT_ALGORITHM = "HS256"  # authgate's default and SimpleJWT's
JWT_LIFETIME_SECONDS = 24 * 3600  # outlasts any run: the tokens are minted before the first
AUTHGATE_JWT_PATH = "/u/api/secure_test/"
SIMPLEJWT_PATH = "/jwt-whoami/"
ME_PATH = "/auth/users/me/"
# The session cookie's name without `Secure` (`authgate_session`): what a dev server reads from a
# direct loopback request over plain HTTP (http/secure_cookies.py), and, with
# AUTHGATE_COOKIE_SECURE off (me_session's setting), what any server reads.
SESSION_COOKIE = session_cookie_name(False)

CASE_LABELS = {
    ROOT: "`GET /` (hello)",
    ME: "`GET /auth/users/me/`",
    CHECK_TOKEN: "`POST /api/v1/accounts/check_token/`",
    LOGIN: "`POST /auth/token/login/`",
    REGISTER: "`POST /auth/users/`",
    JWT_GET: f"JWT `GET` (authgate `{AUTHGATE_JWT_PATH}`, SimpleJWT `{SIMPLEJWT_PATH}`)",
    ME_JWT: "`GET /auth/users/me/`, SimpleJWT bearer",
    ME_SESSION: "`GET /auth/users/me/`, session cookie",
    USER_GET: "`GET /user/<id>/`",
}
CASE_SCRIPTS = {
    ROOT: "hello.lua",
    ME: "me.lua",
    CHECK_TOKEN: "check_token.lua",
    LOGIN: "login.lua",
    REGISTER: "register.lua",
    JWT_GET: "jwt_get.lua",
    ME_JWT: "jwt_get.lua",  # the same request, to /auth/users/me/ with the djoser dialect's JWTs
    ME_SESSION: "me_session.lua",
    USER_GET: "user_get.lua",
}
# Cases only authgate is run on: check_token (the envelope dialect; report.py compares it with
# Djoser's `me`) and issue 14's other authenticated successes (held to hello, not to Djoser).
AUTHGATE_ONLY = frozenset({CHECK_TOKEN, ME_JWT, ME_SESSION, USER_GET})
# What Djoser's users/me/ is configured to take for the cases that need more than a token:
# DRF's authentication classes in order (settings.py, AUTHGATE_AUTHENTICATION).
DJOSER_SCHEMES = '{"djoser": ["token", "jwt", "session"]}'
CASE_SETTINGS: dict[str, dict[str, str]] = {
    ME_JWT: {"AUTHGATE_AUTHENTICATION": DJOSER_SCHEMES},
    ME_SESSION: {"AUTHGATE_AUTHENTICATION": DJOSER_SCHEMES, "AUTHGATE_COOKIE_SECURE": "false"},
}
# The cases whose credentials are swept before the warm-up (every one asked once: the caches
# full, as on a server whose users are all active), and the most one-second runs a sweep takes.
SWEPT = frozenset({ME, CHECK_TOKEN, JWT_GET, ME_JWT, ME_SESSION, USER_GET})
SWEEP_RUNS = 60
# The cases whose first request is checked for a 200 before wrk runs (else: skipped, reported).
PREFLIGHT = frozenset({JWT_GET, ME_JWT, ME_SESSION, USER_GET})


@dataclass(frozen=True, slots=True)
class Handle:
    """A started server: the pid whose process tree serves, and how to stop it."""

    pid: int
    stop: Callable[[], None]


# How to start a server: on a port, with extra settings (env), from a source tree (None: ours).
Starter = Callable[[int, Mapping[str, str], Path | None], Handle]


@dataclass(frozen=True, slots=True)
class Server:
    """A server under test: how to start it on a port, and its seeded tokens."""

    key: str
    label: str
    start: Starter
    tokens: Path | None = None
    database_url: str | None = None  # authgate's, to stagger last_used_at before `me`
    jwts: Path | None = None  # access JWTs, one per seeded user (line I+1: userI), for jwt_get
    jwt_path: str | None = None  # the JWT-guarded GET that jwt_get asks
    sessions: Path | None = None  # session cookie values, one per seeded user, for me_session
    djoser_jwts: Path | None = None  # access JWTs for the djoser dialect's `jwt` scheme (me_jwt)
    src: Path | None = None  # the source tree it serves (--before), None: the working tree's


@dataclass(frozen=True, slots=True)
class Options:
    duration: float
    warmup: float
    connections: int
    users: int
    argon2_verifications: int
    server_cpu: int
    wrk_cpu: int
    postgres: str | None
    cases: tuple[str, ...]
    skip_djoser: bool
    keep: bool
    big_users: int = 0
    two_workers: bool = False
    before: str | None = None
    postgres_shares_cores: bool = False


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds per case (10)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds (2)")
    parser.add_argument("--quick", action="store_true", help="3 s per case, 1 s warm-up")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--users", type=int, default=10_000, help="seeded users (10000)")
    parser.add_argument("--argon2-verifications", type=int, default=None, help="(100; quick 30)")
    parser.add_argument("--server-cpu", type=int, default=0, help="core of the server (0)")
    parser.add_argument("--wrk-cpu", type=int, default=1, help="core of wrk (1)")
    parser.add_argument(
        "--postgres", metavar="URL", help="also run authgate on this SCRATCH PostgreSQL database"
    )
    parser.add_argument(
        "--postgres-shares-cores",
        action="store_true",
        help="leave PostgreSQL's processes unpinned (by default they are pinned to wrk's core)",
    )
    parser.add_argument(
        "--cases",
        default=",".join(CASE_SCRIPTS),
        help=f"comma-separated subset of {','.join(CASE_SCRIPTS)} (all)",
    )
    parser.add_argument("--skip-djoser", action="store_true", help="do not run the reference")
    parser.add_argument(
        "--big-users",
        type=int,
        default=0,
        metavar="N",
        help="also run `me` on a SQLite database of N users (the scale check: 1000000)",
    )
    parser.add_argument(
        "--two-workers",
        action="store_true",
        help="also run `me` and `login` on `authgate serve --workers 2` over both cores"
        " (wrk shares core 1)",
    )
    parser.add_argument(
        "--before",
        metavar="REV",
        help="also serve the src/ of this git revision (e.g. a6c53f2), or of this source tree"
        " (a directory), each authgate row's twin run just before it, and compare the two",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (databases, logs)")
    args = parser.parse_args(argv)
    cases = tuple(c.strip() for c in args.cases.split(",") if c.strip())
    unknown = set(cases) - set(CASE_SCRIPTS)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}")
    default_duration, default_warmup, default_n = (3.0, 1.0, 30) if args.quick else (10.0, 2.0, 100)
    return Options(
        duration=args.duration or default_duration,
        warmup=default_warmup if args.warmup is None else args.warmup,
        connections=args.connections,
        users=args.users,
        argon2_verifications=args.argon2_verifications or default_n,
        server_cpu=args.server_cpu,
        wrk_cpu=args.wrk_cpu,
        postgres=args.postgres,
        cases=cases,
        skip_djoser=args.skip_djoser,
        keep=args.keep,
        big_users=args.big_users,
        two_workers=args.two_workers,
        before=args.before,
        postgres_shares_cores=args.postgres_shares_cores,
    )


# ------------------------------------------------------------------------ preparing


def mint_jwts(
    out: Path, key: str, users: int, *, version: int | None, audience: str | None = None
) -> Path:
    """One HS256 access token per seeded user (line I+1: userI, id I+1), as SimpleJWT 5.5
    writes them (token_type, exp, iat, jti, user_id as a string), plus authgate's `ver` claim
    when `version` is given (a user with no version row is of generation 0) and `aud` when
    `audience` is (the cookie JWT API's own tokens; the simplejwt/djoser ones have none)."""
    now = int(time.time())
    lines = []
    for i in range(users):
        claims: dict[str, object] = {
            "token_type": "access",
            "exp": now + JWT_LIFETIME_SECONDS,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "user_id": str(i + 1),
        }
        if version is not None:
            claims["ver"] = version
        if audience is not None:
            claims["aud"] = audience
        lines.append(jwt.encode(claims, key, algorithm=JWT_ALGORITHM) + "\n")
    out.write_text("".join(lines), encoding="ascii")
    return out


def prepare_djoser(opts: Options, workdir: Path) -> Server:
    log("reference Djoser: building/checking its venv (first time: a minute of pip)")
    python = reference.ensure_venv(reference.DEFAULT_VENV_DIR)
    db, tokens = workdir / "djoser.sqlite3", workdir / "djoser-tokens.txt"
    log(f"reference Djoser: {reference.seed(python, db, opts.users, PASSWORD, tokens)}")
    jwts = mint_jwts(workdir / "djoser-jwts.txt", REFERENCE_SECRET_KEY, opts.users, version=None)
    env = {"REFERENCE_SECRET_KEY": REFERENCE_SECRET_KEY}

    def start(port: int, _settings: Mapping[str, str], _src: Path | None) -> Handle:
        proc = reference.start_server(python, port=port, db_path=db, cpu=opts.server_cpu, env=env)
        return Handle(proc.pid, lambda: reference.stop_server(proc))

    label = "Djoser (gunicorn, 1 sync worker)"
    return Server(DJOSER, label, start, tokens, jwts=jwts, jwt_path=SIMPLEJWT_PATH)


def _authgate(
    key: str, label: str, url: str, seeded: Seeded, opts: Options, workdir: Path
) -> Server:
    def start(port: int, settings: Mapping[str, str], src: Path | None) -> Handle:
        spawned = harness.start_authgate(
            port=port,
            database_url=url,
            secret_key=SECRET_KEY,
            cpu=opts.server_cpu,
            workdir=workdir,
            settings=settings,
            src=src,
        )
        return Handle(spawned.proc.pid, spawned.stop)

    # The bench leaves AUTHGATE_JWT_SIGNING_KEY unset: authgate signs with its secret key.
    tokens = seeded.tokens_file
    jwts = mint_jwts(
        tokens.with_suffix(".jwts.txt"),
        SECRET_KEY,
        opts.users,
        version=0,
        audience=COOKIE_JWT_AUDIENCE,  # /u/api/ accepts only its own tokens
    )
    # The djoser dialect's `jwt` scheme takes SimpleJWT's tokens: no audience is configured.
    djoser_jwts = mint_jwts(
        tokens.with_suffix(".djoser-jwts.txt"), SECRET_KEY, opts.users, version=0
    )
    return Server(
        key,
        label,
        start,
        tokens,
        url,
        jwts=jwts,
        jwt_path=AUTHGATE_JWT_PATH,
        sessions=seeded.sessions_file,
        djoser_jwts=djoser_jwts,
    )


def prepare_sqlite(opts: Options, workdir: Path) -> Server:
    url = f"sqlite:///{workdir / 'authgate.sqlite3'}"
    upgrade(url)
    seeded = seed_sqlite(url, opts.users, PASSWORD, workdir / "authgate-tokens.txt")
    log(f"authgate SQLite: {seeded.summary()}")
    return _authgate(SQLITE, "authgate (SQLite)", url, seeded, opts, workdir)


def prepare_big_sqlite(opts: Options, workdir: Path) -> Server:
    """A SQLite database of opts.big_users users; `me` draws its tokens from the first
    opts.users of them, as the 10,000-user run does, so only the database's size differs."""
    url = f"sqlite:///{workdir / 'authgate-big.sqlite3'}"
    upgrade(url)
    every = workdir / "authgate-big-tokens-all.txt"
    log(f"authgate SQLite, {opts.big_users:,} users: seeding (about 30 s a million)")
    seeded = seed_sqlite(url, opts.big_users, PASSWORD, every)
    log(f"authgate SQLite big: {seeded.summary()}")
    tokens = workdir / "authgate-big-tokens.txt"
    spread = every.read_text(encoding="ascii").split()
    step = max(1, len(spread) // opts.users)
    # Tokens spread over the whole id range (every step-th user), not just the first rows.
    tokens.write_text("".join(f"{t}\n" for t in spread[::step][: opts.users]), encoding="ascii")
    label = f"authgate (SQLite, {opts.big_users:,} users)"
    return _authgate(SQLITE_BIG, label, url, replace(seeded, tokens_file=tokens), opts, workdir)


def two_worker_sqlite(sqlite: Server, opts: Options, workdir: Path) -> Server:
    """The seeded SQLite database served by `authgate serve --workers 2` on both cores.

    `serve` shares the cores out among its workers' hashing pools: one thread each here, as
    the one-worker server pinned to one core has. So `login` on this server against the
    one-worker row is two workers on two cores against one worker on one core."""

    def start(port: int, settings: Mapping[str, str], src: Path | None) -> Handle:
        spawned = harness.start_authgate(
            port=port,
            database_url=sqlite.database_url or "",
            secret_key=SECRET_KEY,
            cpu=f"{opts.server_cpu},{opts.wrk_cpu}",
            workdir=workdir,
            workers=2,
            settings=settings,
            src=src,
        )
        return Handle(spawned.proc.pid, spawned.stop)

    label = "authgate (SQLite, 2 workers, both cores)"
    return Server(SQLITE_2W, label, start, sqlite.tokens, sqlite.database_url)


def prepare_postgres(url: str, opts: Options, workdir: Path) -> Server:
    if ensure_postgres_database(url):
        log(f"authgate PostgreSQL: created the database of {url}")
    log("authgate PostgreSQL: migrating, then EMPTYING auth_user/auth_token/auth_session, seeding")
    upgrade(url)
    seeded = seed_postgres(url, opts.users, PASSWORD, workdir / "authgate-pg-tokens.txt")
    log(f"authgate PostgreSQL: {seeded.summary()}")
    return _authgate(POSTGRES, "authgate (PostgreSQL)", url, seeded, opts, workdir)


def export_before(revision: str, workdir: Path) -> Path:
    """The `src/` of `revision` (or of a source tree, when it names a directory), which must
    have this tree's schema (the same newest migration): the databases are seeded once, by this
    tree. Else the README's other way applies (that tree's own bench/run.py)."""
    tree = Path(revision)
    if tree.is_dir():
        src = tree / "src" if (tree / "src").is_dir() else tree
    else:
        src = harness.export_src(revision, workdir / "before")
    theirs, ours = harness.alembic_head(src), harness.alembic_head(REPO / "src")
    if theirs != ours:
        msg = (
            f"--before {revision}: its newest migration is {theirs}, this tree's {ours}: the"
            " databases seeded here would not fit it; run that tree's own bench/run.py"
            " (bench/README.md, 'Before and after')"
        )
        raise SystemExit(msg)
    return src


def before_twins(servers: Mapping[str, Server], revision: str, src: Path) -> list[Server]:
    """Each authgate server again, serving `src` (the tree of `revision`) from its database."""
    return [
        replace(server, key=server.key + BEFORE, label=f"{server.label} @ {revision}", src=src)
        for key, server in servers.items()
        if key.startswith(AUTHGATE_PREFIX)
    ]


def hello_server(opts: Options, workdir: Path) -> Server:
    def start(port: int, _settings: Mapping[str, str], _src: Path | None) -> Handle:
        spawned = harness.start_hello(port=port, cpu=opts.server_cpu, workdir=workdir)
        return Handle(spawned.proc.pid, spawned.stop)

    return Server(HELLO, "Starlette hello", start)


# ------------------------------------------------------------------------ measuring


def credentials(server: Server, case: str) -> Path | None:
    """The file of credentials (one per seeded user, line I+1: userI) that `case` sends."""
    return {
        JWT_GET: server.jwts,
        ME_JWT: server.djoser_jwts,
        ME_SESSION: server.sessions,
    }.get(case, server.tokens)


def wrk_env(server: Server, case: str, opts: Options) -> dict[str, str]:
    return {
        "BENCH_SALT": secrets.token_hex(4),  # fresh per wrk run: new random streams and names
        "BENCH_TOKENS": str(credentials(server, case) or ""),
        "BENCH_PATH": ME_PATH if case == ME_JWT else server.jwt_path or "",
        "BENCH_COOKIE": SESSION_COOKIE,
        "BENCH_USERS": str(opts.users),
        "BENCH_PASSWORD": PASSWORD,
        "BENCH_NEW_PASSWORD": NEW_PASSWORD,
    }


def first_request(server: Server, case: str) -> tuple[str, dict[str, str]] | None:
    """The path and headers of the request a case's script sends for user0, as wrk would."""
    found = credentials(server, case)
    if found is None:
        return None
    first = found.read_text(encoding="ascii").split("\n", 1)[0]
    if case == JWT_GET and server.jwt_path:
        return server.jwt_path, {"Authorization": f"Bearer {first}"}
    if case == ME_JWT:
        return ME_PATH, {"Authorization": f"Bearer {first}"}
    if case == ME_SESSION:
        return ME_PATH, {"Cookie": f"{SESSION_COOKIE}={first}"}
    if case == USER_GET:
        return "/user/1/", {"Authorization": f"Token {first}"}
    return None


def preflight(server: Server, case: str, port: int) -> str | None:
    """Why the case's request for user0 does not get a 200 from `server`, or None if it does:
    a server that cannot serve the case (an older tree, a key or claims that do not match) is
    reported, not measured."""
    request = first_request(server, case)
    if request is None:
        return f"{server.label} has no credentials for {case}"
    path, headers = request
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()[:300].decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:
        return f"preflight: GET {path} failed: {error}"
    finally:
        conn.close()
    if response.status != 200:
        return (
            f"preflight: GET {path} as user0 got {response.status} (not 200): {body};"
            " the server does not serve this case as the bench asks it, case skipped"
        )
    return None


def sweep(drive: Callable[..., harness.WrkResult], users: int) -> int:
    """Every credential asked once, in order, in runs of a second (wrk cannot stop at a count):
    the measured run then meets the caches of a server whose users are all active, not the
    first reads of thousands of them (a record's first read on PostgreSQL is several round
    trips, and a 2 s warm-up left a fifth of the users unread). Entries stay cached for the
    token cache's TTL (60 s), far longer than a warm-up and run. Returns how many were asked."""
    asked = 0
    for _ in range(SWEEP_RUNS):
        if asked >= users:
            break
        asked += drive(1, BENCH_SWEEP="1", BENCH_SWEEP_FROM=str(asked)).requests
    return min(asked, users)


def measure(wrk: str, server: Server, case: str, opts: Options, raw: list[str]) -> Run:
    """Fresh server, warm-up, wait for idle, measured run, peak RSS; the server is stopped."""
    label = CASE_LABELS[case]
    if case in (ME, CHECK_TOKEN, USER_GET) and server.database_url and server.tokens:
        stagger_last_used(server.database_url, server.tokens)
    if case == ME_SESSION and server.database_url and server.sessions:
        stagger_last_used(server.database_url, server.sessions, table="auth_session")
    port = reference.find_free_port()
    started = time.monotonic()
    try:
        handle = server.start(port, CASE_SETTINGS.get(case, {}), server.src)
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        failed = f"start failed: {error}"
        return Run(case, label, server.key, server.label, None, None, error=failed)
    try:
        if case in PREFLIGHT and (refused := preflight(server, case, port)):
            log(f"  {case:8} {server.label:34} ERROR: {refused}")
            return Run(case, label, server.key, server.label, None, None, error=refused)
        pids = harness.serving_pids(handle.pid)

        def drive(seconds: float, **extra: str) -> harness.WrkResult:
            """wrk on the case's script for `seconds`, `extra` added to its environment."""
            return harness.run_wrk(
                wrk,
                script=CASE_SCRIPTS[case],
                port=port,
                seconds=seconds,
                connections=opts.connections,
                cpu=opts.wrk_cpu,
                env={**wrk_env(server, case, opts), **extra},
            )

        waited = 0.0
        if case in SWEPT and server.key.startswith(AUTHGATE_PREFIX):
            asked = sweep(drive, opts.users)
            log(f"  {case:8} {server.label:34} swept: {asked:,} of {opts.users:,} asked")
        if opts.warmup > 0:
            drive(opts.warmup)
            waited = harness.wait_idle(*pids)
        argon2_before, argon2 = None, None
        one_core = server.key.removesuffix(BEFORE) != SQLITE_2W
        if case == LOGIN and server.key.startswith(AUTHGATE_PREFIX) and one_core:
            # The per-core target's yardstick, taken beside the run on the server's core.
            argon2_before = harness.argon2_rate(opts.argon2_verifications // 2, opts.server_cpu)
        cpu_before = harness.cpu_seconds(*pids)
        hashing = None
        if case == LOGIN and server.key.startswith(AUTHGATE_PREFIX):
            result, hashing = harness.busiest_thread_seconds(pids, lambda: drive(opts.duration))
        else:
            result = drive(opts.duration)
        cpu = harness.cpu_seconds(*pids) - cpu_before
        # The largest worker's: the per-worker figure the RSS target is about.
        peak = max(harness.proc_status_kib(pid, "VmHWM") for pid in pids)
        if argon2_before is not None:
            harness.wait_idle(*pids)  # the logins wrk left in flight
            after = harness.argon2_rate(opts.argon2_verifications // 2, opts.server_cpu)
            argon2 = (argon2_before.per_second + after.per_second) / 2
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        return Run(case, label, server.key, server.label, None, None, error=str(error)[:300])
    finally:
        handle.stop()
    raw.append(f"## {label} on {server.label} (serving pids {pids})\n{result.raw}")
    log(
        f"  {case:8} {server.label:34} {result.rps:10,.1f} req/s  p99 {result.p99_us / 1e3:8.2f} ms"
        f"  non-2xx {result.non2xx}  sock-err {result.socket_errors}"
        f"  server {cpu / max(result.duration_us / 1e6, 1e-9):.0%} busy"
        f"  (idle wait {waited:.1f}s, {time.monotonic() - started:.0f}s in all)"
        + ("" if argon2 is None else f"  argon2id around it {argon2:.1f}/s")
        + ("" if hashing is None or not cpu else f"  hashing thread {hashing / cpu:.1%} of CPU")
    )
    return Run(
        case,
        label,
        server.key,
        server.label,
        result,
        peak,
        cpu,
        argon2_per_second=argon2,
        hashing_seconds=hashing,
    )


def plan(opts: Options, servers: dict[str, Server]) -> list[tuple[Server, str]]:
    """hello first; then per case, authgate backends then Djoser (close in time, so the noise
    of a shared machine hits the compared runs alike), each authgate server just after its
    --before twin."""
    order: list[tuple[Server, str]] = []
    if ROOT in opts.cases:
        order.append((servers[HELLO], ROOT))
    for case in (ME, CHECK_TOKEN, JWT_GET, ME_JWT, ME_SESSION, USER_GET, LOGIN, REGISTER):
        if case in opts.cases:
            keys: tuple[str, ...] = (SQLITE, POSTGRES)
            if case == ME:
                keys += (SQLITE_BIG, SQLITE_2W)
            if case == LOGIN:
                keys += (SQLITE_2W,)
            keys = tuple(twin for key in keys for twin in (key + BEFORE, key))
            if case not in AUTHGATE_ONLY:
                keys += (DJOSER,)
            order += [(servers[k], case) for k in keys if k in servers]
    return order


# ------------------------------------------------------------------------- reporting


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    # --no-optional-locks: read-only, never refreshes the index.
    cmd = ["git", "--no-optional-locks", "-C", str(REPO), *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _git_commit() -> str:
    commit = _git("rev-parse", "--short", "HEAD").stdout.strip() or "?"
    dirty = _git("diff", "--quiet", "HEAD", "--", "src").returncode == 1
    return f"{commit} + uncommitted changes in src/" if dirty else commit


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def header(opts: Options, wrk: str, load_before: float) -> list[str]:
    argv = shlex.join(sys.argv[1:])
    commit = _git_commit()
    if opts.before:
        before = _git("rev-parse", "--short", opts.before).stdout.strip() or opts.before
        commit += f" (before: {opts.before} = {before}, its src/ on this venv)"
    return [
        f"# authgate benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`.venv/bin/python bench/run.py{' ' + argv if argv else ''}` · commit {commit}"
        f" · {_cpu_model()}, {os.cpu_count()} cores · Python {platform.python_version()}"
        f" · {harness.wrk_version(wrk)}",
        "",
        f"Servers pinned to core {opts.server_cpu} (`taskset -c {opts.server_cpu}`), one at a"
        f" time; `taskset -c {opts.wrk_cpu} wrk -t1 -c{opts.connections}"
        f" -d{round(opts.duration)}s --latency` after a {opts.warmup:g} s warm-up and an idle"
        f" wait; a fresh server process per row; {opts.users:,} seeded users with one token and"
        " one session each;"
        f" 1-minute load average {load_before:.2f} at the start (a shared, noisy machine).",
    ]


NOTES = [
    "Server CPU/req is the serving process's user+system CPU time during the measured run (all"
    " its threads) divided by the responses; busy is that CPU time over the run's wall time."
    " On a shared machine CPU/req is steadier than req/s; busy well under 100% means the server"
    " waited for the client (wrk's core was disturbed), so its req/s understates it.",
    "Peak RSS is VmHWM of the serving process over warm-up + run: `authgate serve` itself"
    " (1 worker: uvicorn runs in-process), the largest worker with `--workers 2` (its CPU/req"
    " sums both workers), the gunicorn worker (master not counted) for Djoser, the uvicorn"
    " process for hello.",
    "`--big-users N` adds `me` on a second SQLite database of N users, its tokens drawn from"
    " users spread over the whole id range; `--two-workers` adds `me` and `login` on two"
    " workers pinned to both cores, so wrk shares core 1 with one of them: for `me` wrk itself"
    " saturates the cores (the ratio is a floor); for `login` (argon2id-bound, a few dozen"
    " requests/s) its share is negligible. Each of the two workers hashes on one thread"
    " (`serve` shares the cores out), as the pinned one-worker server does.",
    "Djoser hashes with Django's default PBKDF2-SHA256 (1,000,000 iterations), authgate with"
    " argon2id (t=2, 19 MiB): login and registration compare different hashes by design.",
    "A login row's % of argon2 is against argon2id's own rate measured on the server's core"
    " just before and just after that row's run (the mean of the two), not the figure from the"
    " start of the bench: the load of a shared machine drifts over minutes, and the per-core"
    " target compares two rates taken under the same load.",
    "An authgate login row's check also gives its hashing thread's share of the server's CPU"
    " during the run (the CPU time of the busiest thread but the event loop's, from"
    " /proc/PID/task, over the process's; summed over the workers): the share of"
    " argon2id's rate the server reaches if each of its hashes costs what the yardstick's does."
    " The yardstick itself moves by ±5% between half-second timings on this machine; the share"
    " does not depend on it.",
    "Djoser's login returns the user's one existing token (get_or_create); authgate issues a new"
    " token per login (an INSERT plus the last_login UPDATE).",
    "`check_token` exists only in authgate (the envelope dialect): its authgate/Djoser ratio"
    " is against Djoser's `GET /auth/users/me/`, the nearest thing a service could ask Djoser.",
    "`jwt_get`: each request carries a random one of 10,000 HS256 access tokens that the bench"
    " mints itself with PyJWT (one per seeded user, valid for a day). authgate's"
    " `/u/api/secure_test/` checks the token and the user's JWT generation (from the worker's"
    " caches after a token's first use, as `me` does); the reference's `/jwt-whoami/` uses"
    " SimpleJWT's JWTStatelessUserAuthentication, which checks the token only (no database).",
    "Before each authgate `me`, `check_token` and `user_get` run every token's last_used_at is"
    " set to a random moment of the last minute (every session's before `me_session`): the"
    " steady state of all tokens in use (about N/60 last_used_at writes per second), not a"
    " burst of first uses.",
    "Before the warm-up of each authgate `me`, `check_token`, `jwt_get`, `me_jwt`, `me_session`"
    " and `user_get` run, every credential is asked once, in order (a sweep): the measured run"
    " meets the caches of a server whose users are all active. Cached entries live for the"
    " token cache's TTL (60 s), so the re-reads a server makes once a minute per active"
    " credential (about N/60 per second per cache) are not in the run.",
    "`me_jwt` and `me_session` run with AUTHGATE_AUTHENTICATION"
    f" `{DJOSER_SCHEMES}`; `me_jwt` sends a random one of 10,000 SimpleJWT access tokens minted"
    " for the djoser dialect (authgate's key, `ver` 0, no audience), `me_session` a random one"
    f" of 10,000 sessions seeded in the database (cookie `{SESSION_COOKIE}`, so"
    " AUTHGATE_COOKIE_SECURE=false: the bench speaks plain HTTP), `user_get` userI's"
    " token for userI's own record. Every other row runs at authgate's defaults. These cases"
    " are held to hello (issue 14), not to Djoser; a server that does not answer the first"
    " request with a 200 is reported as not measured.",
    "With `--before REV`, the rows `@ REV` serve REV's `src/` (git archive) with this venv, from"
    " the same seeded database, each just before the working tree's row of the same case.",
    "wrk's timeout is 30 s so that Djoser's PBKDF2 endpoints, queued behind one sync worker,"
    " count as slow rather than as errors; non-2xx and socket errors flag a row with ⚠.",
]


def write_results(text: str, raw: list[str]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    latest = RESULTS / "latest.md"
    latest.write_text(text + "\n", encoding="utf-8")
    (RESULTS / "latest-wrk.txt").write_text("\n".join(raw), encoding="utf-8")
    return latest


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    wrk = harness.ensure_wrk()
    harness.require_taskset()
    if (os.cpu_count() or 1) < 2:
        log("warning: fewer than 2 cores: server and wrk will share one")
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="authgate-bench-"))
    raw: list[str] = []
    try:
        before_src = export_before(opts.before, workdir) if opts.before else None
        servers = {HELLO: hello_server(opts, workdir), SQLITE: prepare_sqlite(opts, workdir)}
        if opts.postgres:
            servers[POSTGRES] = prepare_postgres(opts.postgres, opts, workdir)
        if opts.big_users and ME in opts.cases:
            servers[SQLITE_BIG] = prepare_big_sqlite(opts, workdir)
        if opts.two_workers and (ME in opts.cases or LOGIN in opts.cases):
            servers[SQLITE_2W] = two_worker_sqlite(servers[SQLITE], opts, workdir)
        if opts.before and before_src:
            servers |= {t.key: t for t in before_twins(servers, opts.before, before_src)}
        if not opts.skip_djoser:
            servers[DJOSER] = prepare_djoser(opts, workdir)
        argon2 = None
        if LOGIN in opts.cases:
            argon2 = harness.argon2_rate(opts.argon2_verifications, opts.server_cpu)
            log(argon2.describe())
        todo = plan(opts, servers)
        log(f"measuring {len(todo)} runs of {opts.duration:g} s (+{opts.warmup:g} s warm-up)")
        pin = opts.postgres and not opts.postgres_shares_cores
        with harness.postgres_pinned(opts.wrk_cpu) if pin else contextlib.nullcontext(0) as held:
            runs = [measure(wrk, server, case, opts, raw) for server, case in todo]
    finally:
        if opts.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    notes = [*NOTES, f"1-minute load average at the end: {os.getloadavg()[0]:.2f}."]
    if opts.postgres and not held:
        notes.append("PostgreSQL's own processes are not pinned: they share both cores.")
    elif opts.postgres:
        notes.append(
            f"PostgreSQL's {held} processes were pinned to core {opts.wrk_cpu}, wrk's, for the"
            " runs (their children, the servers' backends, inherit it), as on a deployment whose"
            " database is another machine: the server's core runs the server alone."
            " `--postgres-shares-cores` leaves them on both cores."
        )
    text = Report(runs, argon2).markdown(header(opts, wrk, load_before), notes)
    print(text)
    log(f"written to {write_results(text, raw).relative_to(REPO)} (+ latest-wrk.txt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
