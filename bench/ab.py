"""Is a change faster or slower? Two versions of authgate, one case, in alternation.

    .venv/bin/python bench/ab.py --before 336f016 --case check_token --rounds 3
    .venv/bin/python bench/ab.py --before 336f016 --case login
    .venv/bin/python bench/ab.py --before 336f016 --case jwt_get   # /u/api/secure_test/, Bearer

On a shared machine req/s drifts by a fifth between minutes, more than most changes move it:
`bench/run.py`'s table cannot tell a regression from the neighbours' load. This runs the
working tree's `src/` and the `src/` of another revision (`git archive`) on one seeded SQLite
database (the older tree on a copy), before/after/before/after…, each server pinned to one
core and wrk to the other, and prints the server's CPU time per answer for each run and the
median of each side. `login` is argon2id-bound: it shows the work around the hash. A benchmark,
not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.reference.env import find_free_port
from bench.run import AUTHGATE_JWT_PATH, COOKIE_JWT_AUDIENCE, mint_jwts
from bench.seed_authgate import seed_sqlite, stagger_last_used as stagger

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "me": "me.lua",
    "check_token": "check_token.lua",
    "login": "login.lua",
    "jwt_get": "jwt_get.lua",
}
SECRET_KEY = "ab-bench-secret-" + "k" * 32
PASSWORD = "Bench-Password-1"


def older_copy(database_url: str, older_src: Path, workdir: Path) -> str:
    """A copy of the seeded database that an older tree serves as it is: its Alembic revision
    set to that tree's head, so the older `serve` migrates nothing. Columns the newer schema
    added are left in place, unread (every query names its columns)."""
    path = Path(database_url.removeprefix("sqlite:///"))
    copy = workdir / "ab-before.sqlite3"
    shutil.copy(path, copy)
    head = harness.alembic_head(older_src)
    with sqlite3.connect(copy) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (head,))
    return f"sqlite:///{copy}"


def _wrk(case: str, port: int, tokens: Path, users: int) -> dict[str, Any]:
    """run_wrk's arguments but the duration: 16 connections from core 1, the case's script."""
    env = {"BENCH_TOKENS": str(tokens), "BENCH_USERS": str(users), "BENCH_PASSWORD": PASSWORD}
    if case == "jwt_get":  # the cookie JWT API's access tokens, minted beside the opaque ones
        env |= {
            "BENCH_TOKENS": str(tokens.with_suffix(".jwts.txt")),
            "BENCH_PATH": AUTHGATE_JWT_PATH,
        }
    return {"script": CASES[case], "port": port, "connections": 16, "cpu": 1, "env": env}


def cpu_per_answer(src: Path, case: str, args: argparse.Namespace, db: str, tokens: Path) -> float:
    """Microseconds of server CPU per answer in one measured run of `src`'s server."""
    stagger(db, tokens)
    os.environ["PYTHONPATH"] = str(src)  # the server imports authgate from this tree
    port = find_free_port()
    server = harness.start_authgate(
        port=port,
        database_url=db,
        secret_key=SECRET_KEY,
        cpu=0,
        workdir=tokens.parent,
        settings=harness.assignments(args.set),
    )
    try:
        pids = harness.serving_pids(server.proc.pid)
        harness.run_wrk(args.wrk, **_wrk(case, port, tokens, args.users), seconds=args.warmup)
        harness.wait_idle(*pids)
        before = harness.cpu_seconds(*pids)
        result = harness.run_wrk(
            args.wrk, **_wrk(case, port, tokens, args.users), seconds=args.duration
        )
        spent = harness.cpu_seconds(*pids) - before
    finally:
        server.stop()
    if result.flagged:
        print(f"  warning: {result.non2xx} non-2xx, {result.socket_errors} socket errors")
    return spent / max(result.requests, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="git revision to compare against")
    parser.add_argument("--case", choices=sorted(CASES), default="me")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=6.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="AUTHGATE_X=VALUE",
        help="a setting of both servers (repeatable), e.g. AUTHGATE_METRICS_TOKEN=... to"
        " measure the metrics' cost",
    )
    args = parser.parse_args()
    args.wrk = harness.ensure_wrk()
    harness.require_taskset()
    with tempfile.TemporaryDirectory(prefix="authgate-ab-") as scratch:
        workdir = Path(scratch)
        sides = {"before": harness.export_src(args.before, workdir), "after": ROOT / "src"}
        db = harness.migrated_sqlite(workdir / "ab.sqlite3")
        tokens = workdir / "tokens.txt"
        print(seed_sqlite(db, args.users, PASSWORD, tokens).summary())
        # Signed with the secret key (no AUTHGATE_JWT_SIGNING_KEY), as run.py's jwt_get.
        mint_jwts(
            tokens.with_suffix(".jwts.txt"),
            SECRET_KEY,
            args.users,
            version=0,
            audience=COOKIE_JWT_AUDIENCE,
        )
        databases = {"before": older_copy(db, sides["before"], workdir), "after": db}
        figures: dict[str, list[float]] = {side: [] for side in sides}
        for round_ in range(1, args.rounds + 1):
            for side, src in sides.items():
                figure = cpu_per_answer(src, args.case, args, databases[side], tokens)
                figures[side].append(figure)
                print(f"round {round_} {side:6} {args.case}: {figure:6.1f} µs CPU per answer")
    medians = {side: statistics.median(values) for side, values in figures.items()}
    print(
        f"median: before ({args.before}) {medians['before']:.1f} µs, after (working tree)"
        f" {medians['after']:.1f} µs: after/before {medians['after'] / medians['before']:.2f}"
    )


if __name__ == "__main__":
    main()
