"""CPU and wall time per statement of the PostgreSQL driver (store/drivers/postgres.py): a
primary-key read and a one-row update, each run alone through the bounded pool, as the store
runs them (a cache refresh, a `last_used_at` write).

    .venv/bin/python bench/postgres_statement.py postgresql://postgres@127.0.0.1:5432/authgate_bench
    .venv/bin/python bench/postgres_statement.py --instructions postgresql://...
    PYTHONPATH=/tmp/before/src .venv/bin/python bench/postgres_statement.py ...   # another tree

The event loop is the server's: uvloop when installed (uvicorn's `loop="auto"`, which
`authgate serve` keeps), else asyncio's; `--loop asyncio` forces asyncio's.

CPU time is this process's (the driver's own cost: asyncpg, the pool, the event loop), wall
time includes the server's round trips; both move with the machine's load. `--instructions`
counts instead, with callgrind (valgrind's), the instructions of this process per statement,
which the load cannot move: the script runs under it twice per statement, a short and a long
run, and the difference over the extra statements is one statement's cost, start-up, warm-up
and the table's making excluded. It leaves out the kernel's share (the system calls of the
socket and of each turn of the event loop). A benchmark: it prints figures and asserts nothing.
Uses a table of its own (`bench_statement`), dropped at the end.
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
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import asyncpg

from authgate.store.drivers.postgres import PostgresDriver

READ = "SELECT id, n FROM bench_statement WHERE id = :id"
WRITE = "UPDATE bench_statement SET n = n + 1 WHERE id = :id"
STATEMENTS = {"read": READ, "write": WRITE}
WARM = 200  # statements before the measure: connections open, statements prepared


async def measure(url: str, statements: int, names: list[str]) -> None:
    setup = await asyncpg.connect(url)
    await setup.execute(
        "DROP TABLE IF EXISTS bench_statement;"
        " CREATE TABLE bench_statement (id int PRIMARY KEY, n int NOT NULL);"
        " INSERT INTO bench_statement SELECT g, 0 FROM generate_series(1, 100) g"
    )
    driver = PostgresDriver(url, pool_size=4)
    await driver.connect()
    try:
        for name in names:
            query = STATEMENTS[name]
            run = driver.fetch_one if name == "read" else driver.write
            for i in range(WARM):
                await run(query, {"id": i % 100 + 1})
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(statements):
                await run(query, {"id": i % 100 + 1})
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(
                f"{name:5}  {cpu / statements * 1e6:7.1f} µs CPU  "
                f"{wall / statements * 1e6:7.1f} µs wall  per statement ({statements})"
            )
    finally:
        await driver.close()
        await setup.execute("DROP TABLE bench_statement")
        await setup.close()


def run_in_loop(loop: str, main: Coroutine[Any, Any, None]) -> None:
    """`main` in the event loop `authgate serve` would run (uvicorn's choice), or asyncio's."""
    if loop == "auto":
        try:
            import uvloop  # optional, as in uvicorn
        except ImportError:
            pass
        else:
            uvloop.run(main)
            return
    asyncio.run(main)


def instructions(url: str, name: str, statements: int, loop: str, work: Path) -> int:
    """callgrind's count of this script's instructions, start to end, running `statements` of
    `name` after the warm-up."""
    out = work / f"{name}-{statements}.out"
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        url,
        "--statements",
        str(statements),
        "--only",
        name,
        "--loop",
        loop,
    ]
    env = os.environ | {"PYTHONHASHSEED": "0"}
    subprocess.run(command, check=True, env=env, capture_output=True)
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(errors="replace"), re.M)
    if totals is None:
        raise SystemExit(f"no callgrind total in {out}")
    return int(totals.group(1))


def count(url: str, statements: int, loop: str) -> None:
    few = statements // 5
    with tempfile.TemporaryDirectory(prefix="authgate-statement-") as scratch:
        for name in STATEMENTS:
            short = instructions(url, name, few, loop, Path(scratch))
            long = instructions(url, name, statements, loop, Path(scratch))
            per = (long - short) / (statements - few)
            print(f"{name:5}  {per:9,.0f} instructions per statement ({statements - few})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="a PostgreSQL database (a scratch table is made and dropped)")
    parser.add_argument("--statements", type=int, help="per statement (5000; 1000 counted)")
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument("--loop", choices=("auto", "asyncio"), default="auto")
    parser.add_argument("--only", choices=tuple(STATEMENTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions:
        count(args.url, args.statements or 1000, args.loop)
    else:
        names = [args.only] if args.only else list(STATEMENTS)
        run_in_loop(args.loop, measure(args.url, args.statements or 5000, names))


if __name__ == "__main__":
    main()
