"""WorkerThreads: jobs run off the event loop, in order, results and errors handed back."""

from __future__ import annotations

import asyncio
import functools
import gc
import threading

import pytest

from authgate.worker_threads import WorkerThreads


def test_worker_threads_hand_back_results_and_errors_in_order_until_closed() -> None:
    threads = WorkerThreads(2, name="worker")
    ran_on: list[str] = []

    def work(n: int) -> int:
        ran_on.append(threading.current_thread().name)
        if n == 3:
            raise ValueError(n)
        return n * n

    async def scenario() -> list[object]:
        jobs = [threads.run(functools.partial(work, n)) for n in range(6)]
        return await asyncio.gather(*jobs, return_exceptions=True)

    answers = asyncio.run(scenario())
    assert answers[:3] + answers[4:] == [0, 1, 4, 16, 25]
    assert isinstance(answers[3], ValueError)
    assert set(ran_on) <= {"worker_0", "worker_1"}  # never the loop's thread
    asyncio.run(scenario())  # another event loop, the same threads
    threads.close()
    with pytest.raises(RuntimeError):
        asyncio.run(threads.run(lambda: 1))


def test_a_job_whose_caller_is_gone_is_not_run() -> None:
    threads = WorkerThreads(1, name="worker")
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def block() -> None:
        started.set()
        release.wait(10)

    async def scenario() -> None:
        blocker = asyncio.ensure_future(threads.run(block))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        waiting = asyncio.ensure_future(threads.run(lambda: ran.append("ran")))
        await asyncio.sleep(0)
        waiting.cancel()  # as a request that is abandoned while its hash waits its turn
        release.set()
        await blocker
        await threads.run(lambda: None)  # after the cancelled one in the queue

    asyncio.run(scenario())
    threads.close()
    assert ran == []


def test_worker_threads_dropped_unclosed_end() -> None:
    # As a ThreadPoolExecutor's: a core built without its lifespan (tests) must not leave a
    # thread behind, each holding an argon2id buffer in its arena.
    threads = WorkerThreads(1, name="worker")
    assert asyncio.run(threads.run(lambda: 7)) == 7
    (thread,) = threads._threads
    del threads
    gc.collect()
    thread.join(10)
    assert not thread.is_alive()
