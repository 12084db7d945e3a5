"""Instructions per answer, counted by callgrind: a before/after that the neighbours' load
cannot move.

    .venv/bin/python bench/instructions.py --before 92c94bc
    .venv/bin/python bench/instructions.py --before 92c94bc --case check_token --requests 2000
    .venv/bin/python bench/instructions.py --hello          # bench/hello.py's GET /, the ceiling

bench/ab.py's CPU time per answer drifts with what else the machine runs; valgrind's count of
the server's instructions does not (the same figure twice, whatever the other core does). It
leaves out the kernel's share (system calls) and cache misses, so it complements ab.py rather
than replacing it. Each side's `authgate serve` runs under callgrind twice, for a short and a
long run of keep-alive requests from one connection over the same tokens in the same order;
the difference, divided by the extra requests, is the cost of one answer, start-up excluded.
The server's touch interval is held at a day, so no last_used_at write falls due however slow
the run (valgrind runs Python some 50 times slower), and its token cache trusts an entry as
long, so none expires mid-run.

`--case` picks the request: `me` (`GET /auth/users/me/`, opaque token), `check_token` (the
envelope's `POST /api/v1/accounts/check_token/`), `secure_test` (the cookie JWT API's
`GET /u/api/secure_test/`, its access token as Bearer), `me_jwt` (`/auth/users/me/` with a
SimpleJWT access token, the Djoser dialect set to take them) or `user_get` (`GET /user/<id>/`,
a user's own record with their opaque token). A JWT case first logs every
seeded user in to each side's server, run without valgrind, for that side's own tokens.

The answers counted are of one kind, so a figure moves only with that path's cost:

- by default, cached: every token is asked once beforehand, then in random order;
- `--cold`: each a token not asked before (a cache miss: the store's read);
- `--touch`: each also writes last_used_at (the interval set to 0): the path that falls due
  about users/60 times a second in bench/ab.py's runs.

`--users N` seeds N users (10,000 is ab.py's figure; the warm pass then takes minutes: count
some thousands of answers, since a full garbage collection, which walks every cached principal,
adds tens of thousands of instructions to each answer of a run it lands in), and
`--cache-sim` adds valgrind's cache simulation: first-level and last-level data misses per
answer, for what the instruction count cannot see (a larger working set). `--after REV` counts
another revision instead of the working tree, for bisecting. `--hello` counts bench/hello.py's
`GET /` instead (bare Starlette with authgate's uvicorn options: issue 14's ceiling), the
same way. `--keep DIR` keeps callgrind's files there, for callgrind_annotate. Needs valgrind
(Debian's package). A benchmark: it asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
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
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ab import PASSWORD, ROOT, SECRET_KEY, older_copy
from bench.harness import export_src, migrated_sqlite
from bench.reference.env import find_free_port
from bench.seed_authgate import seed_sqlite

START_TIMEOUT_S = 600.0  # imports under valgrind take a minute or more on a loaded machine
DAY_S = 86_400
# `authgate serve` with the touch interval set first (core/tokens.py imports it by name).
SERVE = (
    "import authgate.constants as c; c.TOKEN_TOUCH_INTERVAL_SECONDS = {interval}\n"
    "from authgate.cli import main\nmain()"
)
# callgrind's events: instructions; data reads and writes missing the first-level and the
# last-level cache (with --cache-sim).
MISSES = {"D1": ("D1mr", "D1mw"), "LL": ("DLmr", "DLmw")}


# The cases whose token is a JWT: the login of each side mints its own (its audience and
# claims), path and body; the others present the opaque tokens seeded.
LOGINS = {
    "secure_test": ("/u/api/login/", "email", "access_token"),
    "me_jwt": ("/auth/jwt/create/", "username", "access"),
}
# me_jwt: the Djoser dialect takes SimpleJWT's access tokens too (settings.py).
CASE_SETTINGS = {"me_jwt": {"AUTHGATE_AUTHENTICATION": '{"djoser": ["token", "jwt"]}'}}


def request_of(case: str, user: int, token: str) -> tuple[str, str, str | None, dict[str, str]]:
    """The request of `case` (as bench/wrk's scripts make it) for the seeded `user`'s token:
    method, path, body, headers."""
    if case == "check_token":
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = f'{{"username": "user{user}"}}'
        return "POST", "/api/v1/accounts/check_token/", body, headers
    if case == "secure_test":  # the cookie JWT API, its access token as Bearer
        return "GET", "/u/api/secure_test/", None, {"Authorization": f"Bearer {token}"}
    if case == "me_jwt":
        return "GET", "/auth/users/me/", None, {"Authorization": f"Bearer {token}"}
    if case == "user_get":  # the user's own record, as bench/wrk/user_get.lua (ids from 1)
        return "GET", f"/user/{user + 1}/", None, {"Authorization": f"Token {token}"}
    return "GET", "/auth/users/me/", None, {"Authorization": f"Token {token}"}


def server_env(src: Path, db: str, args: argparse.Namespace) -> dict[str, str]:
    """The environment of `src`'s server over `db` for the case."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTHGATE_")}
    env |= {"PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    env |= {"AUTHGATE_DATABASE_URL": db, "AUTHGATE_SECRET_KEY": SECRET_KEY}
    # The revocation feed polls the database every 50 ms of wall time, and valgrind stretches
    # a run's wall time by the machine's load: polled hourly, it counts the same in every run.
    # A JWT lives a day, so none expires mid-run either.
    env |= {
        "AUTHGATE_REVOCATION_POLL_SECONDS": "3600",
        "AUTHGATE_TOKEN_CACHE_TTL_SECONDS": str(DAY_S),
        "AUTHGATE_JWT_ACCESS_LIFETIME_SECONDS": str(DAY_S),
    }
    return env | CASE_SETTINGS.get(args.case, {})


def access_tokens(src: Path, db: str, args: argparse.Namespace) -> list[str]:
    """A JWT case's tokens: each seeded user's access token, from a login to `src`'s own
    server (run without valgrind, its throttling off), in user order."""
    path, field, key = LOGINS[args.case]
    port = find_free_port()
    env = server_env(src, db, args) | {"AUTHGATE_THROTTLE_ENABLED": "false"}
    code = SERVE.format(interval=DAY_S)
    serve = [sys.executable, "-c", code, "serve", "--port", str(port)]
    server = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tokens = []
    try:
        wait_for(port, server)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for user in range(args.users):
            login = f"user{user}@example.com" if field == "email" else f"user{user}"
            body = json.dumps({field: login, "password": PASSWORD})
            connection.request("POST", path, body, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            data = answer.read()
            if answer.status != 200:
                raise SystemExit(f"{src}: login to {path} answered {answer.status}: {data!r}")
            tokens.append(json.loads(data)[key])
        connection.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=START_TIMEOUT_S)
    return tokens


def counted_users(args: argparse.Namespace) -> list[int]:
    """The users whose tokens the counted answers present, in order (a short run takes the
    first fifth): distinct with --cold, else drawn at random."""
    order = random.Random(0)
    if args.cold:
        return order.sample(range(args.users), args.requests)
    return [order.randrange(args.users) for _ in range(args.requests)]


Request = tuple[str, str, str | None, dict[str, str]]  # method, path, body, headers


def events(
    serve: list[str],
    env: dict[str, str],
    requests: list[Request],
    args: argparse.Namespace,
    out: Path,
) -> dict[str, int]:
    """callgrind's totals for the server `serve` starts (listening on `args.port`), start to
    stop, answering `requests` in order on one keep-alive connection, each with a 200."""
    callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    if args.cache_sim:
        callgrind += ["--cache-sim=yes", *([f"--LL={args.ll}"] if args.ll else [])]
    with out.with_suffix(".log").open("wb") as log:
        server = subprocess.Popen([*callgrind, *serve], env=env, stdout=log, stderr=log)
    try:
        wait_for(args.port, server)
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
        for method, path, body, headers in requests:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise SystemExit(f"{serve}: {method} {path} answered {answer.status}")
        connection.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=START_TIMEOUT_S)
    text = out.read_text(errors="replace")
    names = re.search(r"^events: (.+)$", text, re.M)
    totals = re.search(r"^(?:summary|totals): ([\d ]+)$", text, re.M)
    if names is None or totals is None:
        raise SystemExit(f"no callgrind total in {out}")
    return dict(zip(names.group(1).split(), map(int, totals.group(1).split()), strict=True))


def authgate_events(
    src: Path,
    db: str,
    args: argparse.Namespace,
    users: list[int],
    tokens: list[str],
    out: Path,
) -> dict[str, int]:
    """callgrind's totals for `src`'s server answering the warm pass (every token once, unless
    --cold) and then `users`' tokens."""
    args.port = find_free_port()
    code = SERVE.format(interval=0 if args.touch else DAY_S)
    serve = [sys.executable, "-c", code, "serve", "--port", str(args.port)]
    warm = [] if args.cold else list(range(args.users))
    requests = [request_of(args.case, user, tokens[user]) for user in [*warm, *users]]
    return events(serve, server_env(src, db, args), requests, args, out)


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


def per_answer(src: Path, db: str, args: argparse.Namespace, out: Path) -> dict[str, float]:
    """Instructions (and with --cache-sim, data cache misses) per answer: a long run less a
    short one, over the extra answers."""
    users = counted_users(args)
    few = len(users) // 5
    tokens = access_tokens(src, db, args) if args.case in LOGINS else args.tokens
    short = authgate_events(compiled(src), db, args, users[:few], tokens, out / "short.out")
    long = authgate_events(src, db, args, users, tokens, out / "long.out")
    return difference(short, long, len(users) - few)


def difference(short: dict[str, int], long: dict[str, int], extra: int) -> dict[str, float]:
    """Instructions (and data cache misses, if counted) per answer of the `extra` answers the
    long run gave more than the short one."""
    figures = {"Ir": (long["Ir"] - short["Ir"]) / extra}
    for level, names in MISSES.items():
        if all(name in long for name in names):
            figures[level] = sum(long[name] - short[name] for name in names) / extra
    return figures


def hello(args: argparse.Namespace, out: Path) -> dict[str, float]:
    """bench/hello.py's instructions per `GET /` (bare Starlette, authgate's uvicorn options),
    counted the same way: the ceiling of issue 14."""
    script = str(Path(__file__).resolve().parent / "hello.py")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    request: Request = ("GET", "/", None, {})
    few = args.requests // 5
    runs = {}
    for name, count in (("short", few), ("long", args.requests)):
        args.port = find_free_port()
        serve = [sys.executable, script, "--port", str(args.port)]
        runs[name] = events(serve, env, [request] * count, args, out / f"{name}.out")
    return difference(runs["short"], runs["long"], args.requests - few)


def side(revision: str | None, db: str, work: Path) -> tuple[Path, str]:
    """The `src/` to run and the database it serves: the working tree's and the seeded one,
    or `revision`'s and a copy stamped at its head."""
    if revision is None:
        return ROOT / "src", db
    work.mkdir()
    src = export_src(revision, work)
    return src, older_copy(db, src, work)


def kept(args: argparse.Namespace, scratch: Path, name: str) -> Path:
    """Where the callgrind files of `name` go: DIR/name with --keep DIR, else scratch's."""
    out = (args.keep or scratch) / f"callgrind-{name}"
    out.mkdir(parents=True, exist_ok=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", help="git revision to compare against (required)")
    parser.add_argument(
        "--hello", action="store_true", help="count bench/hello.py's `GET /` alone instead"
    )
    parser.add_argument("--after", help="git revision to count instead of the working tree")
    parser.add_argument("--case", choices=("me", "check_token", "user_get", *LOGINS), default="me")
    parser.add_argument("--requests", type=int, default=1000, help="answers in the long run")
    parser.add_argument("--users", type=int, default=200, help="users and tokens seeded")
    parser.add_argument("--cold", action="store_true", help="count cache misses")
    parser.add_argument("--touch", action="store_true", help="every answer writes last_used_at")
    parser.add_argument("--cache-sim", action="store_true", help="count data cache misses too")
    parser.add_argument(
        "--ll",
        metavar="SIZE,ASSOC,LINE",
        help="the last-level cache --cache-sim simulates (valgrind's --LL; default: the host's"
        " largest), e.g. one core's L2: 2097152,16,64",
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep callgrind's files in DIR")
    args = parser.parse_args()
    if args.hello:
        with tempfile.TemporaryDirectory(prefix="authgate-instructions-") as scratch:
            figure = hello(args, kept(args, Path(scratch), "hello"))
        print(f"hello: {figure['Ir']:,.0f} instructions per answer")
        return
    if args.before is None:
        parser.error("--before is required (or --hello)")
    if args.cold and args.requests > args.users:
        parser.error("--cold asks each token once: --requests at most --users")
    with tempfile.TemporaryDirectory(prefix="authgate-instructions-") as scratch:
        work = Path(scratch)
        db = migrated_sqlite(work / "after.sqlite3")
        tokens_file = work / "tokens.txt"
        seed_sqlite(db, args.users, PASSWORD, tokens_file)
        # Used just now: no touch falls due within the day's interval, each with --touch's 0.
        with sqlite3.connect(db.removeprefix("sqlite:///")) as connection:
            now = datetime.now(UTC).isoformat()
            connection.execute("UPDATE auth_token SET last_used_at = ?", (now,))
        args.tokens = tokens_file.read_text().split()
        sides = {
            "before": side(args.before, db, work / "before"),
            "after": side(args.after, db, work / "after"),
        }
        figures = {
            name: per_answer(src, url, args, kept(args, work, name))
            for name, (src, url) in sides.items()
        }
    after = args.after or "working tree"
    for name, figure in figures.items():
        misses = "".join(
            f", {figure[level]:,.1f} {level} misses" for level in MISSES if level in figure
        )
        print(f"{name:6} {args.case}: {figure['Ir']:,.0f} instructions{misses} per answer")
    ratio = figures["after"]["Ir"] / figures["before"]["Ir"]
    print(f"after ({after}) / before ({args.before}): {ratio:.3f}")


if __name__ == "__main__":
    main()
