"""Audit entries written in batches, off the request's path.

A login used to wait for its own audit INSERT: a hop to the store's writer (SQLite) or a round
trip (PostgreSQL) per entry, on the core the argon2id hashes need. Entries now wait in memory
and are written together, in order, with one multi-row insert: `flush_seconds` after the first
of a batch, or at once when half the bound is pending.

What is lost and what is not:
- A graceful stop (SIGTERM, the app's shutdown, `Core.close`) writes every pending entry.
- A reader never misses one: `Audit.events` flushes first, so staff read what has happened.
- A process killed outright (`kill -9`, a crash, power loss) loses the entries still waiting,
  at most `flush_seconds`' worth (the requests they describe had already been answered).
- Never dropped for lack of room: with `max_pending` entries waiting (the database slower than
  the events), a request that adds one waits until the batch is written, as every request did
  before batching. So memory stays bounded (the pending entries, plus one batch being written)
  and a flood of failed logins slows down instead of going unlogged.
- A batch the store refuses (the database away) is logged and dropped, as a single entry
  was: an auth server must not stop authenticating because its log cannot be written. An
  outage is a warning line per batch; a traceback only for anything else.

Before `start()` and after `stop()` each entry is written at once (a core used without its
background work, as tests and one-shot commands may, loses nothing).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from authgate.core.errors import UnavailableError
from authgate.core.models import AuditEvent

if TYPE_CHECKING:
    from authgate.store.protocol import Store

log = logging.getLogger(__name__)


class AuditBatcher:
    """Holds audit entries for a moment and writes them to the store in batches."""

    def __init__(self, store: Store, *, flush_seconds: float, max_pending: int) -> None:
        self._store = store
        self._flush_seconds = flush_seconds
        self._max_pending = max_pending
        # A batch is written early once this many wait, so the bound is reached only when the
        # database falls behind, not in an ordinary burst.
        self._flush_at = max(1, max_pending // 2)
        self._pending: list[AuditEvent] = []
        self._batching = False
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()
        # One batch at a time, so entries reach the table (and get their ids) in order.
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> int:
        """Entries waiting to be written (the metrics' audit queue depth)."""
        return len(self._pending)

    def start(self) -> None:
        """Batch from now on (with flush_seconds 0, every entry is still written at once)."""
        self._batching = self._flush_seconds > 0

    async def stop(self) -> None:
        """Write everything pending; later entries are written at once."""
        self._batching = False
        await self.flush()
        if self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)

    async def add(self, entry: AuditEvent) -> None:
        """Queue an entry (or write it, when not batching); waits only while the queue is full."""
        if not self._batching:
            await self._write([entry])
            return
        while len(self._pending) >= self._max_pending:
            await self.flush()
        self._pending.append(entry)
        # Whoever starts a batch arranges for its write: at once when the batch is already
        # large, else after flush_seconds. Later entries join whatever write is coming.
        if len(self._pending) == self._flush_at:
            self._flush_in_background()
        elif len(self._pending) == 1:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._flush_seconds, self._flush_in_background)

    async def flush(self) -> None:
        """Write every pending entry now, after any batch already being written."""
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            batch, self._pending = self._pending, []
            if batch:
                await self._write(batch)

    def _flush_in_background(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _write(self, batch: Sequence[AuditEvent]) -> None:
        try:
            await self._store.append_audit(*batch)
        except Exception as error:
            # What was lost: kinds and users, never the login names (a password typed into
            # the username field must not reach the log).
            kinds = Counter(f"{entry.event} {entry.outcome}" for entry in batch)
            lost = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
            users = sorted({entry.user_id for entry in batch if entry.user_id is not None})
            if not isinstance(error, UnavailableError):
                log.exception(
                    "could not write %d audit entries: %s; users %s", len(batch), lost, users
                )
                return
            # The database away is an outage the store's users already report: one line per
            # lost batch, no traceback (a batch every flush_seconds would bury the log).
            log.warning(
                "the database is unavailable (%s): %d audit entries lost: %s; users %s",
                error,
                len(batch),
                lost,
                users,
            )
