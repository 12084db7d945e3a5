"""store/drivers/sqlite.py: the workers of a first start open a file that is not yet in WAL mode
all at once, and each puts it in WAL mode. SQLite refuses one of two such switches at once,
whatever the busy timeout ("database is locked": a worker failed its start so, now and then);
the driver asks again until the other switch is done."""

from __future__ import annotations

import multiprocessing
import sqlite3
from multiprocessing.synchronize import Event
from pathlib import Path

from authgate.store.drivers.sqlite import connect

PROCESSES = 3
# Each round failed with a chance of about a third before the retry: all of them passing by
# luck is a chance in millions.
ROUNDS = 30


def _open(path: str, go: Event, answers: multiprocessing.Queue[str]) -> None:
    go.wait()
    try:
        connection = connect(path)
        answers.put(connection.execute("PRAGMA journal_mode").fetchone()[0])
    except sqlite3.Error as error:
        answers.put(repr(error))


def test_workers_opening_a_new_file_at_once_all_open_it_in_wal_mode(tmp_path: Path) -> None:
    fork = multiprocessing.get_context("fork")
    answers: list[str] = []
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"{round_}.sqlite3")
        with sqlite3.connect(path) as setup:  # a file in the default (rollback) journal mode
            setup.execute("CREATE TABLE t (x)")
        setup.close()
        go, queue = fork.Event(), fork.Queue()
        processes = [fork.Process(target=_open, args=(path, go, queue)) for _ in range(PROCESSES)]
        for process in processes:
            process.start()
        go.set()
        answers += [queue.get(timeout=30) for _ in processes]
        for process in processes:
            process.join(timeout=30)
    assert answers == ["wal"] * (PROCESSES * ROUNDS)
