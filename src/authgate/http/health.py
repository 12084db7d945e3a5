"""/healthz and /readyz, for orchestrators, load balancers and the Docker HEALTHCHECK.

`/healthz` (liveness) answers 200 as long as the process serves HTTP: it does no I/O, so a
database outage never gets a healthy process restarted. `/readyz` (readiness) answers 200 when
this process can serve requests: the database answers and is at the schema revision this
version ships (store/revisions.py), or at a newer one (a newer version migrated it, as in a
rolling upgrade), and Redis answers PING when AUTHGATE_REDIS_URL is set; otherwise 503, with a
JSON body naming each check that failed. Each check gets CHECK_TIMEOUT_SECONDS, and they run
together: a frozen database or Redis fails the probe instead of hanging it.

Neither is throttled nor written to the audit log (they never reach the core's limits or
audit), and the access log writes them at DEBUG only. Anyone may ask, so the answers name no
host, user or error message (only the error's kind); a change of readiness is logged, once and
with the cause, not at every probe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from authgate.core.errors import UnavailableError
from authgate.store import Store
from authgate.store.revisions import Revisions

CHECK_TIMEOUT_SECONDS = 1.0
OK = "ok"
log = logging.getLogger(__name__)


class Readiness:
    """The checks of /readyz: each one's outcome, `ok` or what is wrong."""

    def __init__(self, store: Store, revisions: Revisions, redis_url: str | None = None) -> None:
        self._store = store
        self._revisions = revisions
        self._newer_told = False
        self._redis_url = redis_url
        self._last: dict[str, str] | None = None

    async def check(self) -> dict[str, str]:
        """Run every check at once, each within CHECK_TIMEOUT_SECONDS."""
        checks: dict[str, Callable[[], Awaitable[str]]] = {"database": self._database}
        if self._redis_url is not None:
            checks["redis"] = self._redis
        outcomes = await asyncio.gather(*(_bounded(c) for c in checks.values()))
        self._tell_change(dict(zip(checks, outcomes, strict=True)))
        return {name: outcome for name, (outcome, _) in zip(checks, outcomes, strict=True)}

    async def _database(self) -> str:
        revision = await self._store.schema_revision()
        head = self._revisions.head
        if revision is None:
            return "not migrated: no schema (run `authgate migrate`)"
        if revision in self._revisions.known and revision != head:
            return f"not migrated: at revision {revision}, this version needs {head}"
        if revision != head and not self._newer_told:
            # A newer authgate migrated it, as in a rolling upgrade: this version's queries
            # name their columns, so they keep working until it is replaced. Taking every old
            # process out of service at once would leave the new ones alone too early.
            log.warning(
                "the database is at revision %s, newer than this version's %s: serving on",
                revision,
                head,
            )
            self._newer_told = True
        return OK

    async def _redis(self) -> str:
        # A connection of its own, opened for each probe (one every few seconds): it tells
        # whether a new connection gets through, and needs no closing when the app stops.
        from redis.asyncio import Redis

        assert self._redis_url is not None  # noqa: S101 only checked when configured
        client = Redis.from_url(
            self._redis_url,
            socket_timeout=CHECK_TIMEOUT_SECONDS,
            socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        )
        try:
            await client.ping()
        finally:
            await client.aclose()
        return OK

    def _tell_change(self, outcomes: dict[str, tuple[str, str]]) -> None:
        """Log when readiness changes, with the causes (which the answers leave out)."""
        failed = {name: cause for name, (outcome, cause) in outcomes.items() if outcome != OK}
        previous = self._last
        self._last = failed
        if previous is not None and failed.keys() == previous.keys():
            return
        if failed:
            log.warning("not ready: %s", "; ".join(f"{n}: {c}" for n, c in failed.items()))
        elif previous:
            log.warning("ready again")


async def _bounded(check: Callable[[], Awaitable[str]]) -> tuple[str, str]:
    """(the check's outcome for the answer, and for the log): `ok`, what is wrong, or
    `unreachable` or `timed out`, the log's with the error's own words."""
    try:
        outcome = await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        outcome = f"timed out after {CHECK_TIMEOUT_SECONDS:g} s"
        return outcome, outcome
    except Exception as error:  # noqa: BLE001 whatever the check raises: not ready
        # The store's outage is named by the driver's error it stands for.
        named = error.__cause__ if isinstance(error, UnavailableError) else None
        name = type(named or error).__name__
        return f"unreachable ({name})", f"{name}: {named or error}"
    return outcome, outcome


def routes(readiness: Readiness) -> list[Route]:
    """GET (and HEAD) /healthz and /readyz."""

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = await readiness.check()
        ready = all(outcome == OK for outcome in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
