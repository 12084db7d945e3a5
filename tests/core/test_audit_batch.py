"""Audit entries are written in batches off the request's path: in order, all of them at a
graceful stop, never dropped when the queue is full, and a failed batch is logged."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from authgate.core.audit import Audit
from authgate.core.audit_batch import AuditBatcher
from authgate.core.clock import SystemClock
from authgate.core.errors import UnavailableError
from authgate.core.models import AuditEvent, AuditQuery
from authgate.store import Store
from tests.support import run


class BatchStore:
    """The store's audit half, recording each batch; `gate` holds writes back while unset."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def append_audit(self, *events: AuditEvent) -> None:
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        self.batches.append([event.event for event in events])

    async def audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        written = [e for batch in self.batches for e in batch]
        return [AuditEvent(e, "success", datetime.now(UTC)) for e in reversed(written)]


def _entry(name: str, login: str | None = None) -> AuditEvent:
    return AuditEvent(name, "failure", datetime.now(UTC), user_id=7, login=login)


def _batcher(store: BatchStore, *, flush_seconds: float = 60.0, max_pending: int = 100) -> Any:
    return AuditBatcher(cast(Store, store), flush_seconds=flush_seconds, max_pending=max_pending)


def test_entries_wait_for_the_interval_then_go_in_one_batch() -> None:
    async def scenario() -> list[list[str]]:
        store = BatchStore()
        batcher = _batcher(store, flush_seconds=0.05)
        batcher.start()
        for name in ("a", "b", "c"):
            await batcher.add(_entry(name))
        assert store.batches == []  # nothing written on the requests' path
        await asyncio.sleep(0.2)
        await batcher.stop()
        return store.batches

    assert run(scenario()) == [["a", "b", "c"]]


def test_a_read_sees_every_entry_recorded_before_it() -> None:
    async def scenario() -> list[str]:
        store = BatchStore()
        audit = Audit(
            cast(Store, store), SystemClock(), retention_days=1, flush_seconds=60, max_pending=100
        )
        audit.start()
        try:
            await audit.record("login")
            await audit.record("logout")
            return [e.event for e in await audit.events()]
        finally:
            await audit.stop()

    assert run(scenario()) == ["logout", "login"]


def test_a_graceful_stop_writes_what_is_pending_and_later_entries_go_at_once() -> None:
    async def scenario() -> list[list[str]]:
        store = BatchStore()
        batcher = _batcher(store)
        batcher.start()
        await batcher.add(_entry("pending"))
        await batcher.stop()
        await batcher.add(_entry("after"))
        return store.batches

    assert run(scenario()) == [["pending"], ["after"]]


def test_without_start_or_with_no_interval_each_entry_is_written_at_once() -> None:
    async def scenario() -> tuple[list[list[str]], list[list[str]]]:
        unstarted = BatchStore()
        await _batcher(unstarted).add(_entry("a"))
        immediate = BatchStore()
        batcher = _batcher(immediate, flush_seconds=0)
        batcher.start()
        await batcher.add(_entry("b"))
        return unstarted.batches, immediate.batches

    assert run(scenario()) == ([["a"]], [["b"]])


def test_a_full_queue_makes_the_caller_wait_and_drops_nothing() -> None:
    async def scenario() -> tuple[list[list[str]], bool]:
        store = BatchStore()
        batcher = _batcher(store, max_pending=4)  # a batch goes early at 2
        batcher.start()
        store.gate.clear()  # the database is slow
        for name in "ab":  # half the bound: written early, held at the gate
            await batcher.add(_entry(name))
        await asyncio.sleep(0)
        for name in "cdef":  # waiting in memory: the queue is full
            await batcher.add(_entry(name))
        blocked = asyncio.create_task(batcher.add(_entry("g")))
        await asyncio.sleep(0.05)
        waited = not blocked.done()
        store.gate.set()
        await blocked
        await batcher.stop()
        return store.batches, waited

    batches, waited = run(scenario())
    assert waited
    assert [e for batch in batches for e in batch] == list("abcdefg")  # all, in order
    assert max(len(batch) for batch in batches) <= 4


def test_a_failed_batch_is_logged_without_login_names(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        store = BatchStore()
        store.fail = RuntimeError("a bug in the store")
        batcher = _batcher(store)
        batcher.start()
        await batcher.add(_entry("login", login="Secret-Typed-Into-Username"))
        await batcher.add(_entry("login"))
        await batcher.stop()  # does not raise

    with caplog.at_level(logging.ERROR, logger="authgate.core.audit_batch"):
        run(scenario())
    [record] = caplog.records
    assert record.getMessage() == "could not write 2 audit entries: 2 login failure; users [7]"
    assert "Secret-Typed-Into-Username" not in caplog.text


def test_a_batch_lost_to_an_outage_is_one_warning_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        store = BatchStore()
        store.fail = UnavailableError("connection refused")
        batcher = _batcher(store)
        batcher.start()
        await batcher.add(_entry("login", login="Secret-Typed-Into-Username"))
        await batcher.stop()

    with caplog.at_level(logging.WARNING, logger="authgate.core.audit_batch"):
        run(scenario())
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == (
        "the database is unavailable (connection refused): 1 audit entries lost:"
        " 1 login failure; users [7]"
    )
    assert "Secret-Typed-Into-Username" not in caplog.text
