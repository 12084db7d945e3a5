"""Every Prometheus metric of authgate, and how they reach `/metrics` (docs/metrics.md).

Counting costs the hot path next to nothing: an event (core/events.py) adds 1 to a plain
integer of this worker, and a flush (every AUTHGATE_METRICS_FLUSH_SECONDS, and right before
this worker answers a scrape) moves the sums into prometheus-client's counters. Those cost a
microsecond or two each in multiprocess mode (a lock and a write to a memory-mapped file), as
much again as the fast lane's whole answer budget allows (bench/ab.py).

Under `authgate serve` (any number of workers) prometheus-client runs in its multiprocess mode:
each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR, a fresh directory `serve`
makes per run, and the worker answering a scrape adds up every worker's files. A worker that
stops marks its live gauges dead; one that was killed is found out at the next scrape.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from prometheus_client import (
    CONTENT_TYPE_LATEST as CONTENT_TYPE,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from authgate.core import events
from authgate.core.events import Events
from authgate.http.metrics import current_dialect

if TYPE_CHECKING:
    from authgate.core.audit import Audit
    from authgate.settings import Settings
    from authgate.store import Store

__all__ = ["CONTENT_TYPE", "Metrics", "current_dialect"]

# The dialects that log users in or register them (their series start at 0); any other
# dialect gets its series when it first counts.
DIALECTS = ("djoser", "envelope", "simplejwt", "cookie_jwt", "admin", "none")
THROTTLED_ACTIONS = ("login", "register", "recovery", "probe")
HASH_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)
# Live gauges' files name their process: gauge_livesum_<pid>.db.
LIVE_GAUGE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db")


@runtime_checkable
class Pooled(Protocol):
    """A store with a connection pool (PostgreSQL's)."""

    def pool_usage(self) -> tuple[int, int]:
        """(connections in use now, acquisitions so far that had to wait for one)."""
        ...


class Metrics(Events):
    """This worker's metrics: the core's events, the HTTP layer's requests, and the gauges
    sampled from the store and the audit queue."""

    def __init__(self, settings: Settings) -> None:
        self._directory = settings.prometheus_multiproc_dir
        self._flush_seconds = settings.metrics_flush_seconds
        # Metrics register here; in multiprocess mode the scrape reads the files instead.
        self._registry = CollectorRegistry(auto_describe=True)
        self._define()
        self._pending: defaultdict[Counter, int] = defaultdict(int)
        self._timed: dict[tuple[str, int], Histogram] = {}
        self._lane_children: dict[str, Counter] = {}
        self._lane_time: dict[str, float] = {}
        self._pool_waits_seen = 0
        self._sources: tuple[Audit | None, Store | None] = (None, None)
        self._flushing: asyncio.Task[None] | None = None

    def _define(self) -> None:
        registry = self._registry
        logins = Counter(
            "authgate_logins",
            "Login attempts by dialect and outcome.",
            ["dialect", "outcome"],
            registry=registry,
        )
        self._login_family = logins
        self._logins = {
            (d, o): logins.labels(d, o) for d in DIALECTS for o in events.LOGIN_OUTCOMES
        }
        registrations = Counter(
            "authgate_registrations", "Users created, by dialect.", ["dialect"], registry=registry
        )
        self._registration_family = registrations
        self._registrations = {d: registrations.labels(d) for d in DIALECTS}
        token_checks = Counter(
            "authgate_token_checks",
            "Opaque token checks by result.",
            ["result"],
            registry=registry,
        )
        self._token_checks = {r: token_checks.labels(r) for r in events.CHECK_RESULTS}
        jwt_checks = Counter(
            "authgate_jwt_checks",
            "JWT checks (a use of an access token, or jwt/verify/) by result.",
            ["result"],
            registry=registry,
        )
        self._jwt_checks = {r: jwt_checks.labels(r) for r in events.CHECK_RESULTS}
        self._cache_hits = Counter(
            "authgate_token_cache_hits",
            "Opaque token checks answered from this worker's memory.",
            registry=registry,
        )
        self._cache_misses = Counter(
            "authgate_token_cache_misses",
            "Opaque token checks that read the database.",
            registry=registry,
        )
        revocations = Counter(
            "authgate_revocations_received",
            "Users' changes received from other processes, by source (the database's feed or"
            " Redis).",
            ["source"],
            registry=registry,
        )
        self._revocations = {s: revocations.labels(s) for s in (events.FEED, events.REDIS)}
        throttled = Counter(
            "authgate_throttled",
            "Attempts refused for their rate (429), by action.",
            ["action"],
            registry=registry,
        )
        self._throttled = {a: throttled.labels(a) for a in THROTTLED_ACTIONS}
        self._lockouts = Counter(
            "authgate_lockouts", "Failed logins that locked their login.", registry=registry
        )
        hash_seconds = Histogram(
            "authgate_password_hash_seconds",
            "Time of one argon2id hash or verification on a hashing thread.",
            ["operation"],
            buckets=HASH_SECONDS,
            registry=registry,
        )
        self._hash_seconds = {op: hash_seconds.labels(op) for op in ("hash", "verify")}
        self._requests = Histogram(
            "authgate_request_duration_seconds",
            "Requests answered by the app (not the fast lane), by route template and status.",
            ["route", "status"],
            registry=registry,
        )
        self._lane_answers = Counter(
            "authgate_fast_lane_answers",
            "Requests the fast lane answered (always 200), by route.",
            ["route"],
            registry=registry,
        )
        self._lane_seconds = Counter(
            "authgate_fast_lane_seconds",
            "Time spent in the fast lane's answers, by route (divide by the answers for the mean).",
            ["route"],
            registry=registry,
        )
        self._pool_in_use = Gauge(
            "authgate_database_pool_in_use",
            "PostgreSQL connections lent out now (every worker's).",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self._pool_waits = Counter(
            "authgate_database_pool_waits",
            "Acquisitions of a PostgreSQL connection that found every one busy.",
            registry=registry,
        )
        self._audit_queue = Gauge(
            "authgate_audit_queue_depth",
            "Audit entries waiting to be written (every worker's).",
            multiprocess_mode="livesum",
            registry=registry,
        )

    # The core's events (core/events.py): plain integers until the next flush.

    def login(self, outcome: str) -> None:
        """Count a login's outcome under the current dialect."""
        key = (current_dialect.get(), outcome)
        child = self._logins.get(key)
        if child is None:
            child = self._logins[key] = self._login_family.labels(*key)
        self._pending[child] += 1

    def registered(self) -> None:
        """Count a registration under the current dialect."""
        dialect = current_dialect.get()
        child = self._registrations.get(dialect)
        if child is None:
            child = self._registrations[dialect] = self._registration_family.labels(dialect)
        self._pending[child] += 1

    def token_checked(self, result: str, *, cached: bool) -> None:
        """Count an opaque token check and whether memory answered it."""
        pending = self._pending
        pending[self._token_checks[result]] += 1
        pending[self._cache_hits if cached else self._cache_misses] += 1

    def jwt_checked(self, result: str) -> None:
        """Count a JWT check."""
        self._pending[self._jwt_checks[result]] += 1

    def revocations_received(self, source: str, users: int) -> None:
        """Count users' changes received."""
        self._pending[self._revocations[source]] += users

    def throttled(self, action: str) -> None:
        """Count a refusal for rate."""
        self._pending[self._throttled[action]] += 1

    def locked_out(self) -> None:
        """Count a lockout."""
        self._pending[self._lockouts] += 1

    def password_hashed(self, operation: str, seconds: float) -> None:
        """Observe a hash's time at once: it runs on a hashing thread (the pending counts
        are the event loop's alone), and a hash takes tens of milliseconds anyway."""
        self._hash_seconds[operation].observe(seconds)

    # The HTTP layer's (http/metrics.py).

    def lane_answered(self, route: str, seconds: float) -> None:
        """Count one of the fast lane's answers: its latency goes into a sum, not the
        histogram, whose observation would cost more than the rest of the answer allows."""
        pending = self._pending
        pending[self._lane_answer(route)] += 1
        self._lane_time[route] = self._lane_time.get(route, 0.0) + seconds

    def request_answered(self, route: str, status: int, seconds: float) -> None:
        """Observe a request the app answered (route: its template, never the raw path)."""
        key = (route, status)
        child = self._timed.get(key)
        if child is None:
            child = self._timed[key] = self._requests.labels(route, str(status))
        child.observe(seconds)

    def _lane_answer(self, route: str) -> Counter:
        child = self._lane_children.get(route)
        if child is None:
            child = self._lane_children[route] = self._lane_answers.labels(route)
        return child

    # Flushing, sampling and the scrape.

    def watch(self, audit: Audit, store: Store) -> None:
        """Sample the audit queue and the store's pool at each flush."""
        self._sources = (audit, store)

    def start(self) -> None:
        """Flush every AUTHGATE_METRICS_FLUSH_SECONDS from now on."""
        self._flushing = asyncio.get_running_loop().create_task(self._keep_flushing())

    async def stop(self) -> None:
        """Flush a last time; in multiprocess mode this worker's live gauges die with it."""
        if self._flushing is not None:
            self._flushing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flushing
            self._flushing = None
        self.flush()
        if self._directory is not None:
            _mark_dead(os.getpid(), self._directory)

    async def _keep_flushing(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            self.flush()

    def flush(self) -> None:
        """Move the pending counts into Prometheus's values, and sample the gauges."""
        pending, self._pending = self._pending, defaultdict(int)
        for counter, amount in pending.items():
            counter.inc(amount)
        lane_time, self._lane_time = self._lane_time, {}
        for route, seconds in lane_time.items():
            self._lane_seconds.labels(route).inc(seconds)
        audit, store = self._sources
        if audit is not None:
            self._audit_queue.set(audit.pending)
        if isinstance(store, Pooled):
            in_use, waits = store.pool_usage()
            self._pool_in_use.set(in_use)
            self._pool_waits.inc(waits - self._pool_waits_seen)
            self._pool_waits_seen = waits

    def exposition(self) -> bytes:
        """The text a scrape gets: every worker's values in multiprocess mode."""
        self.flush()
        if self._directory is None:
            return generate_latest(self._registry)
        mark_dead_workers(self._directory)
        registry = CollectorRegistry()
        collect = multiprocess.MultiProcessCollector
        collect(registry, path=str(self._directory))  # type: ignore[no-untyped-call]
        return generate_latest(registry)


def mark_dead_workers(directory: Path) -> None:
    """Drop the live gauges of workers that died without stopping (killed; uvicorn starts
    another): their last pool and queue sizes would otherwise count forever."""
    for path in directory.glob("gauge_live*.db"):
        match = LIVE_GAUGE_FILE.fullmatch(path.name)
        if match is None:
            continue
        pid = int(match.group(1))
        if not _alive(pid):
            _mark_dead(pid, directory)


def _mark_dead(pid: int, directory: Path) -> None:
    """Remove the live gauges of a process that is gone (prometheus-client's own way)."""
    mark = multiprocess.mark_process_dead
    mark(pid, str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True
