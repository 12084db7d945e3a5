"""Prometheus metrics at /metrics (docs/metrics.md): off by default, behind a bearer token,
moving as the requests that count them say, labelled by route template, and added up across
the workers of `authgate serve --workers 2`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from tests.support import Api, free_port

TOKEN = "metrics-token-Vq3x9LmT2pWz7RkN4bYc8HdJ"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "Correct-Horse-9"  # Api.register's
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
# Read at import: tests/conftest.py removes every AUTHGATE_* variable while a test runs.
REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL")
SOURCES = [
    "feed",
    pytest.param(
        "redis",
        marks=pytest.mark.skipif(REDIS_URL is None, reason="AUTHGATE_TEST_REDIS_URL is not set"),
    ),
]


def samples(text: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def scrape(api: Api) -> Samples:
    response = api.http.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def test_metrics_are_off_by_default(api: Api) -> None:
    assert api.http.get("/metrics").status_code == 404
    assert api.http.get("/metrics", headers=SCRAPE).status_code == 404


def test_metrics_answer_only_the_bearer_token(serve: Callable[..., Api]) -> None:
    api = serve(metrics_token=TOKEN)
    assert api.http.get("/metrics").status_code == 401
    wrong = api.http.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert TOKEN not in wrong.text
    assert api.http.get("/metrics", headers=SCRAPE).status_code == 200


def test_a_sequence_of_requests_moves_the_metrics(serve: Callable[..., Api]) -> None:
    api = serve(metrics_token=TOKEN)
    before = scrape(api)
    assert value(before, "authgate_logins_total", dialect="djoser", outcome="success") == 0
    api.register("alice")
    token = api.login("alice")
    wrong = api.http.post(
        "/auth/token/login/", json={"username": "alice", "password": "Wrong-Horse-9"}
    )
    assert wrong.status_code == 400
    unknown = api.http.post("/api/v1/login/", json={"username": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401
    me = api.http.get("/auth/users/me/", headers=api.as_user(token))  # the fast lane
    assert me.status_code == 200
    check = api.http.post(
        "/api/v1/check_token/", json={"username": "alice"}, headers=api.as_user(token)
    )
    assert check.status_code == 200
    bad = api.http.get("/auth/users/me/", headers=api.as_user("f" * 40))
    assert bad.status_code == 401
    found = scrape(api)

    def moved(name: str, **labels: str) -> float:
        return value(found, name, **labels) - value(before, name, **labels)

    assert moved("authgate_registrations_total", dialect="djoser") == 1
    assert moved("authgate_logins_total", dialect="djoser", outcome="success") == 1
    assert moved("authgate_logins_total", dialect="djoser", outcome="wrong_password") == 1
    assert moved("authgate_logins_total", dialect="envelope", outcome="unknown_user") == 1
    assert moved("authgate_logins_total", dialect="envelope", outcome="success") == 0
    assert moved("authgate_token_checks_total", result="valid") == 2
    assert moved("authgate_token_checks_total", result="invalid") >= 1
    hits = moved("authgate_token_cache_hits_total")
    misses = moved("authgate_token_cache_misses_total")
    # users/me/ read the token from the database and cached it, check_token found it there;
    # the unknown token read the database once: the lane's lookup, whose outcome the full
    # view that answers the 401 reuses (dialects/authenticator.py).
    assert (hits, misses) == (1, 2)
    lane = ("authgate_fast_lane_answers_total",)
    assert moved(*lane, route="/auth/users/me/") == 1
    assert moved(*lane, route="/api/v1/check_token/") == 1
    assert moved("authgate_fast_lane_seconds_total", route="/auth/users/me/") > 0
    assert moved("authgate_password_hash_seconds_count", operation="verify") == 3
    assert moved("authgate_password_hash_seconds_count", operation="hash") == 1
    timed = "authgate_request_duration_seconds_count"
    assert moved(timed, route="/auth/token/login/", status="200") == 1
    assert moved(timed, route="/auth/token/login/", status="400") == 1
    assert moved(timed, route="/auth/users/me/", status="401") == 1  # declined by the lane
    assert value(found, "authgate_audit_queue_depth") >= 0


def test_jwt_checks_are_counted_by_result(serve: Callable[..., Api]) -> None:
    api = serve(metrics_token=TOKEN)
    api.register("frank")
    created = api.http.post("/auth/jwt/create/", json={"username": "frank", "password": PASSWORD})
    assert created.status_code == 200
    access = created.json()["access"]
    assert api.http.post("/auth/jwt/verify/", json={"token": access}).status_code == 200
    assert api.http.post("/auth/jwt/verify/", json={"token": "not.a.jwt"}).status_code == 401
    found = scrape(api)
    assert value(found, "authgate_jwt_checks_total", result="valid") == 1
    assert value(found, "authgate_jwt_checks_total", result="invalid") == 1
    assert value(found, "authgate_logins_total", dialect="simplejwt", outcome="success") == 1


def test_requests_are_labelled_by_route_template(serve: Callable[..., Api]) -> None:
    api = serve(metrics_token=TOKEN)
    token = api.login(api.register("bob")["username"])
    for user_id in (12345, 67890):
        answer = api.http.get(f"/auth/users/{user_id}/", headers=api.as_user(token))
        assert answer.status_code == 404
    assert api.http.get("/no/such/path/31337").status_code == 404
    assert api.http.get("/auth/no-such-endpoint/31337").status_code == 404
    response = api.http.get("/metrics", headers=SCRAPE)
    found = samples(response.text)
    timed = "authgate_request_duration_seconds_count"
    assert value(found, timed, route="/auth/users/{id}/", status="404") == 2
    assert value(found, timed, route="unmatched", status="404") == 1
    assert value(found, timed, route="/auth/{path}", status="404") == 1
    # Where a request's path could show: a sample's name, labels and their values. Not the
    # values measured: a duration's digits may hold "31337" by chance.
    shown = " ".join(f"{name} {sorted(labels)}" for name, labels in found)
    for raw in ("12345", "67890", "31337"):
        assert raw not in shown


def test_throttled_logins_and_lockouts_are_counted(serve: Callable[..., Api]) -> None:
    api = serve(
        metrics_token=TOKEN,
        throttle_login_per_account="3/minute",
        lockout_free_failures=1,
        lockout_base_seconds=60,
    )
    api.register("carol")
    wrong = {"username": "carol", "password": "Wrong-Horse-9"}
    statuses = [api.http.post("/auth/token/login/", json=wrong).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    found = scrape(api)
    assert value(found, "authgate_logins_total", dialect="djoser", outcome="throttled") == 1
    assert value(found, "authgate_throttled_total", action="login") == 1
    # The first failure used the one free failure and locked this address out (the attempt
    # reserves the lock before its password is checked); the next two found it locked.
    assert value(found, "authgate_logins_total", dialect="djoser", outcome="wrong_password") == 1
    assert value(found, "authgate_lockouts_total") == 1
    assert value(found, "authgate_logins_total", dialect="djoser", outcome="locked") == 2


@pytest.mark.parametrize("source", SOURCES)
def test_revocations_received_are_counted(serve: Callable[..., Api], source: str) -> None:
    """A logout reaches every worker through the feed (each reads its own rows too) and, with
    Redis, through its push."""
    extra = {"redis_url": REDIS_URL} if source == "redis" else {}
    api = serve(metrics_token=TOKEN, **extra)
    token = api.login(api.register("erin")["username"])
    assert api.http.post("/auth/token/logout/", headers=api.as_user(token)).status_code == 204
    deadline = time.monotonic() + 10
    while (received := _received(api, source)) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)  # the feed is polled every 50 ms
    assert received >= 1


def _received(api: Api, source: str) -> float:
    return value(scrape(api), "authgate_revocations_received_total", source=source)


# `authgate serve --workers 2`: prometheus-client's multiprocess mode, live.

WORKERS = 2
LOGINS = 24


@pytest.fixture
def two_workers(tmp_path: Path, database_url: str) -> Iterator[tuple[Api, Path]]:
    """`authgate serve --workers 2` with metrics on; its TMPDIR is the test's, so that the
    directory `serve` makes for the workers' counts can be looked at."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHGATE_", "PROMETHEUS"))}
    env |= {
        "AUTHGATE_DATABASE_URL": database_url,
        "AUTHGATE_SECRET_KEY": "s" * 48,
        "AUTHGATE_METRICS_TOKEN": TOKEN,
        "AUTHGATE_METRICS_FLUSH_SECONDS": "0.05",
        "AUTHGATE_THROTTLE_ENABLED": "false",
        "AUTHGATE_ARGON2_MEMORY_COST_KIB": "19456",
        "TMPDIR": str(tmp_path),
    }
    authgate = Path(sys.executable).parent / "authgate"
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(authgate), "serve", "--port", str(port), "--workers", str(WORKERS)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = Api(f"http://127.0.0.1:{port}")
    try:
        _wait_until_up(api, proc, tmp_path / "serve.log")
        yield api, tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    # `serve` removes its directory when it ends.
    assert list(tmp_path.glob("authgate-metrics-*")) == []


def _wait_until_up(api: Api, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until /metrics answers and every worker has said it started: one worker answers as soon
    as it is up, and logins made before the other is would all go to the first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "authgate serve exited"
        try:
            answering = api.http.get("/metrics", headers=SCRAPE).status_code == 200
        except httpx.TransportError:
            answering = False
        if answering and log.read_text().count("Application startup complete") == WORKERS:
            return
        time.sleep(0.1)
    raise AssertionError(f"authgate serve did not start:\n{log.read_text()}")


def _logins_counted(api: Api) -> float:
    return value(scrape(api), "authgate_logins_total", dialect="djoser", outcome="success")


def _per_worker(directory: Path, scratch: Path) -> list[float]:
    """Each worker's own login count, read from its own file alone (prometheus-client's
    reader over a folder holding just that file)."""
    counts = []
    for index, path in enumerate(sorted(directory.glob("counter_*.db"))):
        alone = scratch / f"worker{index}"
        alone.mkdir(parents=True)
        shutil.copy(path, alone)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        found = samples(generate_latest(registry).decode())
        counts.append(value(found, "authgate_logins_total", dialect="djoser", outcome="success"))
    return counts


@pytest.mark.slow
def test_two_workers_add_up(two_workers: tuple[Api, Path], tmp_path: Path) -> None:
    api, tmpdir = two_workers
    api.register("dave")
    base_url = str(api.http.base_url)

    def login(_: int) -> int:
        # A connection each (no keep-alive), so the workers share them out.
        with httpx.Client(base_url=base_url, timeout=30) as client:
            body = {"username": "dave", "password": PASSWORD}
            return client.post("/auth/token/login/", json=body).status_code

    # Four at a time: more simultaneous logins of one account from one address than the
    # lockout's free failures are refused (each reserves an attempt before its check).
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(login, range(LOGINS))) == {200}
    # The worker answering the scrape adds its own counts at once; the other's arrive within
    # its flush interval (0.05 s here).
    deadline = time.monotonic() + 20
    while (counted := _logins_counted(api)) < LOGINS and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counted == LOGINS
    (directory,) = tmpdir.glob("authgate-metrics-*")
    per_worker = _per_worker(directory, tmp_path / "alone")
    assert sum(per_worker) == LOGINS
    assert len([c for c in per_worker if c > 0]) == WORKERS, per_worker


@pytest.mark.slow
def test_a_scrape_marks_killed_workers_dead(tmp_path: Path) -> None:
    """Live gauges (pool in use, audit queue) of a worker that died without stopping are
    dropped at the next scrape; a live worker's stay, and counters are never touched."""
    from authgate.metrics import mark_dead_workers

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid, live_pid = int(gone.stdout), os.getpid()
    names = [
        f"gauge_livesum_{dead_pid}.db",
        f"gauge_livesum_{live_pid}.db",
        f"counter_{dead_pid}.db",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    mark_dead_workers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])


def test_serve_says_in_one_line_when_it_cannot_make_the_directory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    import typer

    from authgate import cli
    from authgate.settings import Settings

    def refuse(**_: object) -> str:
        raise PermissionError(13, "Permission denied", "authgate-metrics-x")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(typer.Exit) as stopped:
        cli._metrics_directory(Settings(_env_file=None, metrics_token=TOKEN))
    assert stopped.value.exit_code == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "metrics directory" in lines[0]
    assert "TMPDIR" in lines[0]
    assert TOKEN not in lines[0]
    # Metrics off: no directory at all.
    assert cli._metrics_directory(Settings(_env_file=None)) is None
