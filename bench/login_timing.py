"""Can a login's answer time tell whether an account exists? (issue 5, ASVS 6.3.8)

Starts `authgate serve` on a fresh SQLite database, registers one user, then in each dialect
times N logins of unknown users against N logins of the known user with a wrong password,
interleaved in a random order so that drift in the machine's load falls on both alike. It
prints the median of each and their difference in percent (the target is under 5%), and
checks that both kinds get the same status and body.

    .venv/bin/python bench/login_timing.py [--tries 200] [--port 8765]

Throttling and lockout are switched off for the run: they would stop a single client's 1,600
failed logins long before the end, and what is measured here is the login path itself. The
server is pinned to core 0 and this client to core 1 when the machine has two cores.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

PASSWORD = "Timing-Horse-93"
KNOWN = "timing-known"
KNOWN_EMAIL = "timing-known@example.com"
TARGET_PERCENT = 5.0
WARMUP = 10


@dataclass(frozen=True)
class Dialect:
    """A login endpoint, and how it is asked to log someone in."""

    name: str
    path: str
    body: Callable[[str, str], dict[str, str]]
    """(login name, password) -> request body."""
    unknown: Callable[[int], str]
    """The i-th unknown login name."""
    known: str


DIALECTS = (
    Dialect(
        "djoser token/login",
        "/auth/token/login/",
        lambda login, pw: {"username": login, "password": pw},
        lambda i: f"nobody-{i}",
        KNOWN,
    ),
    Dialect(
        "simplejwt jwt/create",
        "/auth/jwt/create/",
        lambda login, pw: {"username": login, "password": pw},
        lambda i: f"nobody-{i}",
        KNOWN,
    ),
    Dialect(
        "envelope login",
        "/api/v1/login/",
        lambda login, pw: {"username": login, "password": pw},
        lambda i: f"nobody-{i}",
        KNOWN,
    ),
    Dialect(
        "cookie_jwt login",
        "/u/api/login/",
        lambda login, pw: {"email": login, "password": pw},
        lambda i: f"nobody-{i}@example.com",
        KNOWN_EMAIL,
    ),
)


@dataclass(frozen=True)
class Timing:
    """The medians of one dialect's two kinds of failed login, in milliseconds."""

    unknown_ms: float
    known_ms: float
    same_answers: bool

    @property
    def difference_percent(self) -> float:
        """How much slower an unknown user's login is than a wrong password's (negative:
        faster)."""
        return (self.unknown_ms - self.known_ms) / self.known_ms * 100


def _two_cores() -> bool:
    return shutil.which("taskset") is not None and len(os.sched_getaffinity(0)) >= 2


def start_server(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """`authgate serve` on a fresh SQLite file; returns once it answers."""
    authgate = str(Path(sys.executable).parent / "authgate")
    command = [authgate, "serve", "--host", "127.0.0.1", "--port", str(port)]
    if _two_cores():
        command = ["taskset", "-c", "0", *command]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env |= {
        "AUTHGATE_DATABASE_URL": f"sqlite:///{workdir / 'authgate.sqlite3'}",
        "AUTHGATE_SECRET_KEY": "timing-" + "k" * 48,
        "AUTHGATE_THROTTLE_ENABLED": "false",
        "AUTHGATE_LOCKOUT_ENABLED": "false",
        "AUTHGATE_LOG_LEVEL": "warning",
    }
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError((workdir / "server.log").read_text()[-2000:])
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        return server
    server.kill()
    raise RuntimeError("authgate did not start")


def measure(client: httpx.Client, dialect: Dialect, tries: int, rng: random.Random) -> Timing:
    """Interleaved timings of unknown-user and wrong-password logins."""
    times: dict[bool, list[float]] = {True: [], False: []}
    answers: dict[bool, set[tuple[int, bytes]]] = {True: set(), False: set()}
    for i in range(-WARMUP, tries):
        order = [True, False]
        rng.shuffle(order)
        for unknown in order:
            login = dialect.unknown(rng.randrange(10**9)) if unknown else dialect.known
            body = dialect.body(login, f"Wrong-{rng.randrange(10**9)}")
            started = time.perf_counter()
            response = client.post(dialect.path, json=body)
            elapsed = time.perf_counter() - started
            if i >= 0:
                times[unknown].append(elapsed * 1000)
                answers[unknown].add((response.status_code, response.content))
    same = len(answers[True]) == 1 and answers[True] == answers[False]
    return Timing(statistics.median(times[True]), statistics.median(times[False]), same)


def main() -> int:
    """Run every dialect and print the table; exit 1 if a difference is 5% or more."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=200, help="logins of each kind per dialect")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="authgate-timing-") as scratch:
        server = start_server(args.port, Path(scratch))
        try:
            if _two_cores():
                os.sched_setaffinity(0, {1})
            with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=30) as client:
                user = {"username": KNOWN, "email": KNOWN_EMAIL, "password": PASSWORD}
                client.post("/auth/users/", json=user).raise_for_status()
                results = [(d, measure(client, d, args.tries, rng)) for d in DIALECTS]
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{args.tries} interleaved logins of each kind per dialect (medians):")
    header = f"{'dialect':<22} {'unknown user':>13} {'wrong password':>15} {'difference':>11}"
    print(f"{header}  same answer")
    worst = 0.0
    for dialect, timing in results:
        worst = max(worst, abs(timing.difference_percent))
        print(
            f"{dialect.name:<22} {timing.unknown_ms:>10.2f} ms {timing.known_ms:>12.2f} ms"
            f" {timing.difference_percent:>+10.2f}%  {'yes' if timing.same_answers else 'NO'}"
        )
    verdict = "met" if worst < TARGET_PERCENT else "NOT met"
    print(f"largest difference {worst:.2f}% (target < {TARGET_PERCENT:.0f}%): {verdict}")
    same = all(timing.same_answers for _, timing in results)
    return 0 if worst < TARGET_PERCENT and same else 1


if __name__ == "__main__":
    sys.exit(main())
