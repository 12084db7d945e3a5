"""Instructions per answer, counted by callgrind: a before/after that the neighbours' load
cannot move.

    .venv/bin/python bench/instructions.py --before 92c94bc
    .venv/bin/python bench/instructions.py --before 92c94bc --case check_token --requests 2000

bench/ab.py's CPU time per answer drifts with what else the machine runs; valgrind's count of
the server's instructions does not (the same figure twice, whatever the other core does). It
leaves out the kernel's share (system calls) and cache misses, so it complements ab.py rather
than replacing it. Each side's `authgate serve` runs under callgrind twice, for a short and a
long run of keep-alive requests from one connection over the same tokens in the same order;
the difference, divided by the extra requests, is the cost of one answer, start-up excluded.
Tokens are stamped as just used, so no touch falls due however slow the run (valgrind runs
Python some 50 times slower). Needs valgrind (Debian's package). A benchmark: it asserts
nothing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ab import PASSWORD, ROOT, SECRET_KEY, export_src, older_copy
from bench.reference.env import find_free_port
from bench.seed_authgate import seed_sqlite

START_TIMEOUT_S = 600.0  # imports under valgrind take a minute or more on a loaded machine
WARM = 200  # requests before either count: every token once, into the caches


def request_of(case: str, user: int, token: str) -> tuple[str, str, str | None, dict[str, str]]:
    """The request of `case` (as bench/wrk's scripts make it) for the seeded `user`'s token:
    method, path, body, headers."""
    if case == "check_token":
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = f'{{"username": "user{user}"}}'
        return "POST", "/api/v1/accounts/check_token/", body, headers
    return "GET", "/auth/users/me/", None, {"Authorization": f"Token {token}"}


def instructions(src: Path, db: str, case: str, tokens: list[str], count: int, out: Path) -> int:
    """The instructions `src`'s server ran, start to stop, answering WARM + count requests."""
    port = find_free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTHGATE_")}
    env |= {"PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    env |= {"AUTHGATE_DATABASE_URL": db, "AUTHGATE_SECRET_KEY": SECRET_KEY}
    # The revocation feed polls the database every 50 ms of wall time, and valgrind stretches
    # a run's wall time by the machine's load: polled hourly, it counts the same in every run.
    env |= {"AUTHGATE_REVOCATION_POLL_SECONDS": "3600"}
    serve = [sys.executable, "-m", "authgate", "serve", "--port", str(port)]
    callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    with out.with_suffix(".log").open("wb") as log:
        server = subprocess.Popen([*callgrind, *serve], env=env, stdout=log, stderr=log)
    try:
        wait_for(port, server)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        order = random.Random(0)
        users = [*range(len(tokens)), *(order.randrange(len(tokens)) for _ in range(count))]
        for user in users:
            method, path, body, headers = request_of(case, user, tokens[user])
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise SystemExit(f"{src}: {case} answered {answer.status}")
        connection.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=START_TIMEOUT_S)
    total = re.search(r"^(?:summary|totals): (\d+)", out.read_text(errors="replace"), re.M)
    if total is None:
        raise SystemExit(f"no callgrind total in {out}")
    return int(total.group(1))


def wait_for(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not listen within {START_TIMEOUT_S:.0f} s")


def compiled(src: Path) -> Path:
    """`src`, its bytecode written beforehand: else the first run under callgrind, and only
    it, would count the compiling of every module."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True)
    return src


def per_answer(
    src: Path, db: str, args: argparse.Namespace, tokens: list[str], work: Path
) -> float:
    """Instructions per answer: a long run less a short one, over the extra answers."""
    requests: int = args.requests
    short = instructions(compiled(src), db, args.case, tokens, requests // 5, work / "short.out")
    long = instructions(src, db, args.case, tokens, requests, work / "long.out")
    return (long - short) / (requests - requests // 5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="git revision to compare against")
    parser.add_argument("--case", choices=("me", "check_token"), default="me")
    parser.add_argument("--requests", type=int, default=1000, help="answers in the long run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="authgate-instructions-") as scratch:
        work = Path(scratch)
        db = f"sqlite:///{work / 'after.sqlite3'}"
        settings = {"AUTHGATE_DATABASE_URL": db, "AUTHGATE_SECRET_KEY": SECRET_KEY}
        migrate = [sys.executable, "-m", "authgate", "migrate"]
        subprocess.run(migrate, check=True, env={**os.environ, **settings}, capture_output=True)
        tokens_file = work / "tokens.txt"
        seed_sqlite(db, WARM, PASSWORD, tokens_file)
        with sqlite3.connect(db.removeprefix("sqlite:///")) as connection:
            connection.execute("UPDATE auth_token SET last_used_at = '2100-01-01T00:00:00+00:00'")
        tokens = tokens_file.read_text().split()
        sides = {
            "before": (export_src(args.before, work), older_copy(db, work / "src", work)),
            "after": (ROOT / "src", db),
        }
        figures = {
            side: per_answer(src, url, args, tokens, work) for side, (src, url) in sides.items()
        }
    for side, figure in figures.items():
        print(f"{side:6} {args.case}: {figure:,.0f} instructions per answer")
    ratio = figures["after"] / figures["before"]
    print(f"after (working tree) / before ({args.before}): {ratio:.3f}")


if __name__ == "__main__":
    main()
