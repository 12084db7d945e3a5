"""How small can the work around a login's argon2id get? Three servers of the same login, in turn.

    .venv/bin/python bench/login_floor.py              # 3 rounds, 6 s per server per round
    .venv/bin/python bench/login_floor.py --rounds 5 --duration 10

- `authgate`: `authgate serve`, `POST /auth/token/login/` as bench/run.py's login row.
- `core`: authgate's own core (Logins.log_in_with_token) behind a bare ASGI function, without
  Starlette's middleware and routing or the DRF dialect (bench/login_floor_apps.py).
- `floor`: one SELECT, argon2id on a worker thread, one write transaction on SQLite's writer
  thread, a JSON answer: no throttling, lockout or audit. The least a token login can do here.

Each server runs alone on one seeded SQLite database, pinned to core 0 with wrk (16
connections, bench/wrk/login.lua) on core 1, after a warm-up; the rounds alternate the servers,
so that the machine's drift falls on all three alike. For each run: the server's CPU per login
that is not its hashing thread's ("around the hash") and the hashing thread's share of the
server's CPU, the figure bench/run.py gives beside a login row's % of argon2id. A benchmark,
not a test: it asserts nothing but that the logins succeeded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.reference.env import find_free_port
from bench.seed_authgate import seed_sqlite

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "login-floor-secret-" + "k" * 32
PASSWORD = "Bench-Password-1"
SERVERS = ("authgate", "core", "floor")


def start(server: str, database_url: str, workdir: Path) -> tuple[harness.Spawned, int]:
    """The server, pinned to core 0 and answering, and its port."""
    port = find_free_port()
    if server == "authgate":
        spawned = harness.start_authgate(
            port=port, database_url=database_url, secret_key=SECRET_KEY, cpu=0, workdir=workdir
        )
        return spawned, port
    uvicorn = Path(sys.executable).parent / "uvicorn"
    app = f"bench.login_floor_apps:{server}_app"
    cmd = [str(uvicorn), app, "--factory", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--no-access-log", "--no-server-header", "--log-level", "warning"]
    env = {
        "PYTHONPATH": str(ROOT),
        "AUTHGATE_DATABASE_URL": database_url,
        "AUTHGATE_SECRET_KEY": SECRET_KEY,
        **harness.BENCH_LIMITS,
    }
    log = workdir / f"{server}.log"
    return harness.spawn(harness.pinned(0, cmd), port=port, probe="/", log=log, env=env), port


def measure(server: str, args: argparse.Namespace, database_url: str, workdir: Path) -> Run:
    """One measured run of `server`, after its warm-up."""
    spawned, port = start(server, database_url, workdir)
    env = {"BENCH_USERS": str(args.users), "BENCH_PASSWORD": PASSWORD}

    def drive(seconds: float) -> harness.WrkResult:
        return harness.run_wrk(
            args.wrk, script="login.lua", port=port, seconds=seconds, connections=16, cpu=1, env=env
        )

    try:
        pids = harness.serving_pids(spawned.proc.pid)
        drive(args.warmup)
        harness.wait_idle(*pids)
        before = harness.cpu_seconds(*pids)
        result, hashing = harness.busiest_thread_seconds(pids, lambda: drive(args.duration))
        spent = harness.cpu_seconds(*pids) - before
    finally:
        spawned.stop()
    if result.flagged or result.requests == 0:
        raise SystemExit(f"{server}: {result.non2xx} non-2xx, {result.socket_errors} socket errors")
    return Run((spent - hashing) / result.requests * 1e3, hashing / spent, result.rps)


@dataclass(frozen=True, slots=True)
class Run:
    around_ms: float  # CPU per login but the hashing thread's
    hash_share: float  # the hashing thread's share of the server's CPU
    rps: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=6.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    args.wrk = harness.ensure_wrk()
    harness.require_taskset()
    with tempfile.TemporaryDirectory(prefix="authgate-login-floor-") as scratch:
        workdir = Path(scratch)
        database_url = harness.migrated_sqlite(workdir / "floor.sqlite3")
        print(seed_sqlite(database_url, args.users, PASSWORD, workdir / "tokens.txt").summary())
        runs: dict[str, list[Run]] = {server: [] for server in SERVERS}
        for round_number in range(1, args.rounds + 1):
            for server in SERVERS:
                run = measure(server, args, database_url, workdir)
                runs[server].append(run)
                print(
                    f"round {round_number}  {server:8}  {run.rps:6.1f} logins/s  around the hash"
                    f" {run.around_ms:5.2f} ms  hash {run.hash_share:6.1%} of the CPU",
                    flush=True,
                )
    print(f"\nmedians of {args.rounds} rounds ({args.duration:g} s each):")
    for server, measured in runs.items():
        around = statistics.median(run.around_ms for run in measured)
        share = statistics.median(run.hash_share for run in measured)
        print(f"  {server:8}  around the hash {around:5.2f} ms per login  hash {share:6.1%}")


if __name__ == "__main__":
    main()
