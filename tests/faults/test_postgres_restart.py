"""PostgreSQL restarted under load: requests that need it fail with 503 in the dialect's shape
(never a 500, never a wait past AUTHGATE_DATABASE_TIMEOUT_SECONDS), and the service recovers
by itself within 5 s of PostgreSQL coming back. Each step waits for what it needs to see (load
running, a 503 in the outage, a success after it), not for a fixed time.

This restarts the machine's PostgreSQL cluster (pg_ctlcluster, as `.ci/run` starts it), so it
runs only where that is possible and AUTHGATE_TEST_POSTGRES_URL is set; marked `alone`, so that
no other pytest-xdist worker uses the database meanwhile (tests/exclusive.py).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.support import PASSWORD, start_node, stop
from tests.support import eventually, scratch_postgres

TIMEOUT = 2.0
RECOVERY_SECONDS = 5
AFTER = 30  # answers after the recovery checked for a 500 as well
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir(),
        reason="no pg_ctlcluster here to restart PostgreSQL with",
    ),
    pytest.mark.alone,
]


def _cluster(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, "-m", "fast"]
        if action == "stop"
        else ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _ready() -> bool:
    done = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False)
    return done.returncode == 0


def test_a_postgres_restart_gives_503s_then_recovers(tmp_path: Path) -> None:
    url = scratch_postgres("authgate_pgrestart")
    node = start_node(url, tmp_path, database_timeout_seconds=str(TIMEOUT))
    answers: list[tuple[float, int, float, str]] = []  # (when, status, seconds taken, body)
    stopping = threading.Event()

    def register() -> None:
        count = 0
        with httpx.Client(timeout=30) as client:
            while not stopping.is_set():
                body = {"username": f"r{count}", "password": PASSWORD}
                count += 1
                started = time.monotonic()
                try:
                    response = client.post(node.url + "/auth/users/", json=body)
                except httpx.TransportError:
                    answers.append((started, -1, time.monotonic() - started, ""))
                    continue
                taken = time.monotonic() - started
                answers.append((started, response.status_code, taken, response.text[:200]))

    def seen(status: int, since: float) -> bool:
        return any(s == status and when >= since for when, s, _, _ in list(answers))

    worker = threading.Thread(target=register, daemon=True)
    try:
        worker.start()
        eventually(lambda: seen(201, 0.0), RECOVERY_SECONDS)  # the load is running
        _cluster("stop")
        down_at = time.monotonic()
        eventually(lambda: seen(503, down_at), TIMEOUT + 3)  # the outage answered
        _cluster("start")
        eventually(_ready, 60)
        back_at = time.monotonic()
        # The first success after PostgreSQL is back (or the recovery bound to fail on), then
        # more answers: the pool's other connections died with the server too.
        eventually(lambda: seen(201, back_at), RECOVERY_SECONDS + 1)
        eventually(lambda: sum(when >= back_at for when, *_ in list(answers)) > AFTER, 6)
    finally:
        stopping.set()
        worker.join(timeout=60)
        if not _ready():
            _cluster("start")
        stop(node)

    statuses = {status for _, status, _, _ in answers}
    assert statuses <= {201, 503}, [a for a in answers if a[1] not in (201, 503)][:3]
    outage = [a for a in answers if down_at <= a[0] < back_at]
    assert any(status == 503 for _, status, _, _ in outage)
    unavailable = next(body for _, status, _, body in answers if status == 503)
    assert unavailable.startswith('{"detail":'), unavailable  # DRF's shape
    assert max(taken for _, _, taken, _ in answers) < TIMEOUT + 3
    recovered = [when for when, status, _, _ in answers if when >= back_at and status == 201]
    assert recovered, "no registration succeeded after PostgreSQL came back"
    assert recovered[0] - back_at < RECOVERY_SECONDS
