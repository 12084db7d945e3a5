"""Threads that run blocking work the event loop hands them: the password hashes and SQLite's
writes.

A leaner hop than `run_in_executor` over a ThreadPoolExecutor, whose concurrent future (with its
lock and condition), work item and chained asyncio future cost a login as much Python as its
throttling and lockout together, and more again when argon2id has just pushed them out of the
CPU's caches (bench/login_cost.py). A job is the loop, a future and a callable on a queue; the
thread runs it and settles the future through the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[T]", Callable[[], T]]


class WorkerThreads:
    """`count` threads named `name`_0, `name`_1, ... that run what the event loop hands them,
    in order, and wake the loop with each result. They start with the first job, as an
    executor's do, and end with `close` or, as an executor's, when this object is dropped
    unclosed (a hashing thread would keep its argon2id buffer)."""

    def __init__(self, count: int, *, name: str) -> None:
        if count < 1:
            raise ValueError("at least one worker thread")
        self._count = count
        self._name = name
        self._jobs: SimpleQueue[_Job[Any] | None] = SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._stop: Callable[[], object] | None = None
        self._closed = False

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` on one of the threads; its result or its exception. A job whose caller is
        cancelled before a thread takes it is not run."""
        if self._closed:
            raise RuntimeError(f"the {self._name} threads are stopped")
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, work))
        return await future

    def close(self) -> None:
        """Stop the threads once the work already handed to them is done."""
        self._closed = True
        if self._stop is not None:
            self._stop()
        for thread in self._threads:
            thread.join()

    def _start(self) -> None:
        for number in range(self._count):
            thread = threading.Thread(
                target=_serve, args=(self._jobs,), name=f"{self._name}_{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        self._stop = weakref.finalize(self, _end_threads, self._jobs, self._count)


def _serve(jobs: SimpleQueue[_Job[Any] | None]) -> None:
    """A worker thread: each job in turn, until told to end (None)."""
    while (job := jobs.get()) is not None:
        loop, future, work = job
        if future.cancelled():  # its caller is gone: spare the work (as an executor does)
            continue
        try:
            outcome: tuple[bool, object] = (True, work())
        except BaseException as error:  # noqa: BLE001 handed to the caller, as raised
            outcome = (False, error)
        with contextlib.suppress(RuntimeError):  # its loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(_settle, future, outcome)


def _end_threads(jobs: SimpleQueue[_Job[Any] | None], count: int) -> None:
    for _ in range(count):
        jobs.put(None)


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, object]) -> None:
    """On the loop: a job's result or exception into its caller's future."""
    if future.cancelled():
        return
    succeeded, value = outcome
    if succeeded:
        future.set_result(value)
    else:
        assert isinstance(value, BaseException)  # noqa: S101 what _serve caught
        future.set_exception(value)
