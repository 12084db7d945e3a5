"""CPU and wall time per statement of the PostgreSQL driver (store/drivers/postgres.py): a
primary-key read and a one-row update, each run alone through the bounded pool, as the store
runs them (a cache refresh, a `last_used_at` write).

    .venv/bin/python bench/postgres_statement.py postgresql://postgres@127.0.0.1:5432/authgate_bench
    PYTHONPATH=/tmp/before/src .venv/bin/python bench/postgres_statement.py ...   # another tree

CPU time is this process's (the driver's own cost: asyncpg, the pool, the event loop), wall
time includes the server's round trips. A benchmark: it prints figures and asserts nothing.
Uses a table of its own (`bench_statement`), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg

from authgate.store.drivers.postgres import PostgresDriver

READ = "SELECT id, n FROM bench_statement WHERE id = :id"
WRITE = "UPDATE bench_statement SET n = n + 1 WHERE id = :id"


async def measure(url: str, statements: int) -> None:
    setup = await asyncpg.connect(url)
    await setup.execute(
        "DROP TABLE IF EXISTS bench_statement;"
        " CREATE TABLE bench_statement (id int PRIMARY KEY, n int NOT NULL);"
        " INSERT INTO bench_statement SELECT g, 0 FROM generate_series(1, 100) g"
    )
    driver = PostgresDriver(url, pool_size=4)
    await driver.connect()
    try:
        for name, query, run in (
            ("read", READ, driver.fetch_one),
            ("write", WRITE, driver.write),
        ):
            for i in range(200):  # warm: connections open, statements prepared
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="a PostgreSQL database (a scratch table is made and dropped)")
    parser.add_argument("--statements", type=int, default=5000)
    args = parser.parse_args()
    asyncio.run(measure(args.url, args.statements))


if __name__ == "__main__":
    main()
