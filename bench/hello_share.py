"""Each case's share of the bare Starlette hello, as the median of several rounds.

    .venv/bin/python bench/hello_share.py --cases me,check_token,user_get --rounds 5
    .venv/bin/python bench/hello_share.py --rounds 5 --postgres postgresql://postgres@127.0.0.1:5432/authgate_bench
    .venv/bin/python bench/hello_share.py --cases user_get --set AUTHGATE_TOKEN_CACHE_TTL_SECONDS=6

Issue 14 holds every authenticated success to >= 90% of hello's rate. On this shared VM one
server's rate swings by a third between consecutive runs, and hello itself by ±5%, so a single
run of bench/run.py (hello once, at the start) gives a share worth a few points at best. Here
every round runs hello again and then each case on each database, fresh servers and the same
warm-up as bench/run.py, and a case's share in a round is against that round's hello; the table
gives the median over the rounds, its lowest and highest, by req/s and by server CPU per answer
(each run's CPU per answer is in the progress on stderr). `--set` gives every authgate server a
setting: a short cache TTL, say, to count the store re-reads that a run after the sweep leaves
out. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness, run as bench
from bench.report import HELLO, ROOT, SQLITE, Run

# The authenticated successes of issue 14's target.
SHARED_CASES = (
    bench.ME,
    bench.CHECK_TOKEN,
    bench.JWT_GET,
    bench.ME_JWT,
    bench.ME_SESSION,
    bench.USER_GET,
)


def parse_args(argv: list[str] | None) -> tuple[bench.Options, int, dict[str, str]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default=",".join(SHARED_CASES), help="(all of issue 14's)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (5)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run (5)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (2)")
    parser.add_argument("--users", type=int, default=10_000, help="seeded users (10000)")
    parser.add_argument("--postgres", metavar="URL", help="also on this SCRATCH database")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="AUTHGATE_X=VALUE",
        help="a setting of every authgate server (repeatable)",
    )
    args = parser.parse_args(argv)
    settings = harness.assignments(args.set)
    if not all(name.startswith("AUTHGATE_") for name in settings):
        parser.error("--set takes AUTHGATE_X=VALUE")
    cases = tuple(c.strip() for c in args.cases.split(",") if c.strip())
    if unknown := set(cases) - set(SHARED_CASES):
        parser.error(f"unknown cases {sorted(unknown)}; known: {','.join(SHARED_CASES)}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    opts = bench.Options(
        duration=args.duration,
        warmup=args.warmup,
        connections=16,
        users=args.users,
        argon2_verifications=0,
        server_cpu=0,
        wrk_cpu=1,
        postgres=args.postgres,
        cases=cases,
        skip_djoser=True,
        keep=False,
    )
    return opts, args.rounds, settings


def with_settings(server: bench.Server, extra: dict[str, str]) -> bench.Server:
    """`server`, started with `extra` on top of each case's settings."""
    start = server.start

    def started(port: int, settings: Mapping[str, str], src: Path | None) -> bench.Handle:
        return start(port, {**settings, **extra}, src)

    return replace(server, start=started)


def shares(run: Run, hello: Run) -> tuple[float, float] | None:
    """A run's share of its round's hello: by req/s and by CPU per answer; None when either
    was not measured."""
    if run.rps is None or hello.rps is None:
        return None
    by_cpu = hello.cpu_us_per_request, run.cpu_us_per_request
    cpu = by_cpu[0] / by_cpu[1] if by_cpu[0] and by_cpu[1] else float("nan")
    return run.rps / hello.rps, cpu


def spread(values: list[float]) -> str:
    return (
        f"{statistics.median(values):.0%} ({min(values):.0%}–{max(values):.0%})"
        if values
        else "not measured"
    )


def main(argv: list[str] | None = None) -> int:
    opts, rounds, settings = parse_args(argv)
    wrk = harness.ensure_wrk()
    harness.require_taskset()
    workdir = Path(tempfile.mkdtemp(prefix="authgate-share-"))
    try:
        servers = {HELLO: bench.hello_server(opts, workdir)}
        servers[SQLITE] = bench.prepare_sqlite(opts, workdir)
        if opts.postgres:
            servers[bench.POSTGRES] = bench.prepare_postgres(opts.postgres, opts, workdir)
        backends = [
            with_settings(servers[k], settings) for k in (SQLITE, bench.POSTGRES) if k in servers
        ]
        found: dict[tuple[str, str], list[tuple[float, float]]] = {}
        pin = harness.postgres_pinned(opts.wrk_cpu) if opts.postgres else contextlib.nullcontext()
        with pin:
            for number in range(1, rounds + 1):
                bench.log(f"round {number} of {rounds}")
                hello = bench.measure(wrk, servers[HELLO], ROOT, opts, [])
                for case in opts.cases:
                    for server in backends:
                        run = bench.measure(wrk, server, case, opts, [])
                        share = shares(run, hello)
                        if share is not None:
                            found.setdefault((case, server.label), []).append(share)
                            rate, cpu = share
                            bench.log(
                                f"    {rate:.0%} of this round's hello ({cpu:.0%} by CPU;"
                                f" {run.cpu_us_per_request or float('nan'):.1f} µs per answer)"
                            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"# Share of hello, median of {rounds} rounds (lowest–highest)\n")
    given = "".join(f", {k}={v}" for k, v in settings.items())
    print(
        f"{opts.users:,} users, {opts.duration:g} s runs after {opts.warmup:g} s warm-ups{given}.\n"
    )
    print("| case | server | by req/s | by CPU per answer |")
    print("|---|---|---:|---:|")
    for case in opts.cases:
        for server in backends:
            got = found.get((case, server.label), [])
            by_rate, by_cpu = [s[0] for s in got], [s[1] for s in got]
            print(f"| {case} | {server.label} | {spread(by_rate)} | {spread(by_cpu)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
