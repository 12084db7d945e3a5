"""Logs (logs.py, http/request_ids.py): a UTC timestamp on every line, JSON lines, the request
id (taken from X-Request-ID or made, returned, on every record of the request), the access log,
and `authgate serve --workers 2` writing the same format from each worker."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from authgate.logs import JsonFormatter, LogFormat, TextFormatter, request_id, stream_handler
from tests.support import Api, free_port

TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
# time, level, logger, [request id], message
TEXT_LINE = re.compile(rf"{TIMESTAMP} (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+) \[(\S+)\] (.*)")
MADE_ID = re.compile(r"[0-9a-f]{32}")
PASSWORD = "Correct-Horse-9"


@contextmanager
def captured(log_format: LogFormat) -> Iterator[io.StringIO]:
    """What the service's handler (logs.stream_handler) writes meanwhile, every level; the
    tests' HTTP client's own records left out."""
    out = io.StringIO()
    handler = stream_handler(log_format, out)
    handler.addFilter(lambda record: not record.name.startswith(("httpx", "httpcore")))
    root, access = logging.getLogger(), logging.getLogger("authgate.access")
    levels = root.level, access.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    access.setLevel(logging.NOTSET)  # as `authgate serve` run in-process by a test may leave it
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        access.setLevel(levels[1])


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("authgate.test", logging.INFO, __file__, 1, message, args, None)
    record.created = 0.25
    record.__dict__.update(extra)
    return record


# ------------------------------------------------------------------------- the formats


def test_a_text_line_starts_with_its_utc_time() -> None:
    line = TextFormatter().format(_record("hello %s", "there", request_id="req-1"))
    assert line == "1970-01-01T00:00:00.250Z INFO authgate.test [req-1] hello there"
    assert TextFormatter().format(_record("outside")).endswith(" [-] outside")


def test_a_json_line_has_the_fields_and_the_event_fields() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed %d", 3, request_id="req-2", route="/x/{id}/")
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line  # the traceback inside the one line
    data = json.loads(line)
    assert data["time"] == "1970-01-01T00:00:00.250Z"
    assert (data["level"], data["logger"], data["message"]) == ("INFO", "authgate.test", "failed 3")
    assert (data["request_id"], data["route"]) == ("req-2", "/x/{id}/")
    assert "ValueError: boom" in data["exception"]
    # uvicorn's coloured copy of its messages is not an event field.
    assert "color_message" not in json.loads(
        JsonFormatter().format(_record("m", color_message="x"))
    )


def test_the_handler_stamps_the_current_request_id() -> None:
    out = io.StringIO()
    logger = logging.getLogger("authgate.test.stamp")
    logger.addHandler(stream_handler("json", out))
    logger.propagate = False
    try:
        token = request_id.set("abc123")
        logger.warning("inside")
        request_id.reset(token)
        logger.warning("outside")
    finally:
        logger.handlers.clear()
        logger.propagate = True
    inside, outside = (json.loads(line) for line in out.getvalue().splitlines())
    assert (inside["request_id"], outside["request_id"]) == ("abc123", None)


# ------------------------------------------------------------------------- request ids


def test_json_lines_carry_the_request_id_of_the_answer(serve: Callable[..., Api]) -> None:
    # An unreachable Redis: /readyz logs why it is not ready while it answers.
    api = serve(access_log=True, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with captured("json") as out:
        created = api.http.post("/auth/users/", json={"username": "json1", "password": PASSWORD})
        ready = api.http.get("/readyz")
    assert (created.status_code, ready.status_code) == (201, 503)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    for line in lines:
        assert re.fullmatch(TIMESTAMP, line["time"]), line
        assert {"level", "logger", "message", "request_id"} <= line.keys()
    ids = {created.headers["x-request-id"], ready.headers["x-request-id"]}
    assert all(MADE_ID.fullmatch(i) for i in ids)
    assert len(ids) == 2
    mine = [line for line in lines if line["request_id"] == created.headers["x-request-id"]]
    (access,) = [line for line in mine if line["logger"] == "authgate.access"]
    assert (access["method"], access["route"], access["status"]) == ("POST", "/auth/users/", 201)
    assert access["client"] == "127.0.0.1"
    assert access["duration_ms"] > 0
    during_ready = {
        line["logger"] for line in lines if line["request_id"] == ready.headers["x-request-id"]
    }
    assert {"authgate.http.health", "authgate.access"} <= during_ready


def test_a_plain_request_id_is_kept(api: Api) -> None:
    for given in ("3f2a-req.42:x", "a" * 128, "Root=1+abc/def"):
        answer = api.http.get("/healthz", headers={"X-Request-ID": given})
        assert answer.headers["x-request-id"] == given


@pytest.mark.parametrize(
    "hostile",
    [
        "a" * 129,
        "has space",
        'quote"d',
        "${jndi:ldap://x/a}",
        "%0d%0aforged",
        "",
        "ä".encode(),
        "semi;colon,comma",
    ],
)
def test_a_hostile_request_id_is_replaced(api: Api, hostile: str | bytes) -> None:
    sent = hostile if isinstance(hostile, bytes) else hostile.encode()
    with captured("text") as out:
        answer = api.http.get("/auth/users/me/", headers=[(b"X-Request-ID", sent)])
    assert MADE_ID.fullmatch(answer.headers["x-request-id"])
    assert len(answer.headers.get_list("x-request-id")) == 1
    if len(sent) > 3:
        assert sent.decode("latin-1") not in out.getvalue()


@pytest.mark.parametrize("access_log", [False, True])
def test_the_fast_lane_echoes_an_id_and_makes_one_for_the_access_log(
    serve: Callable[..., Api], access_log: bool
) -> None:
    api = serve(access_log=access_log)
    api.register("lane1")
    auth = api.as_user(api.login("lane1"))
    answer = api.http.get("/auth/users/me/", headers=auth)
    assert answer.status_code == 200
    made = answer.headers.get_list("x-request-id")
    if access_log:
        assert len(made) == 1
        assert MADE_ID.fullmatch(made[0])
    else:
        assert made == []  # the lane's answer logs nothing: no id is made for it
    again = api.http.get("/auth/users/me/", headers={**auth, "X-Request-ID": "r1"})
    assert again.headers.get_list("x-request-id") == ["r1"]


@pytest.mark.parametrize("access_log", [False, True])
def test_every_layout_returns_the_request_id(serve: Callable[..., Api], access_log: bool) -> None:
    # The id sits inside the lane, or outermost with the access log; CORS moves the lane.
    api = serve(access_log=access_log, cors_allowed_origins=["https://app.example.com"])
    api.register("cors1")
    auth = api.as_user(api.login("cors1"))
    answers = [
        api.http.get("/auth/users/me/", headers={**auth, "X-Request-ID": "r-lane"}),  # the lane
        api.http.get("/auth/users/me/", headers={"X-Request-ID": "r-app"}),  # the app: 401
        api.http.get("/healthz", headers={"X-Request-ID": "x" * 20_000}),  # the lane: 431
    ]
    assert [a.status_code for a in answers] == [200, 401, 431]
    assert [a.headers.get_list("x-request-id") for a in answers[:2]] == [["r-lane"], ["r-app"]]
    refused = answers[2].headers.get_list("x-request-id")  # a header too long to echo
    if access_log:
        assert MADE_ID.fullmatch(refused[0])
    else:
        assert refused == []


# ------------------------------------------------------------------------- the access log


def test_access_lines_name_the_route_template(serve: Callable[..., Api]) -> None:
    api = serve(access_log=True)
    with captured("text") as out:
        user = api.register("tmpl1")
        token = api.login("tmpl1")
        auth = api.as_user(token)
        assert api.http.get(f"/auth/users/{user['id']}/", headers=auth).status_code == 200
        assert api.http.get("/auth/users/me/", headers=auth).status_code == 200  # the lane
        assert api.http.get(f"/user/{user['id']}/", headers=auth).status_code == 200  # too
        sneaky = api.http.get("/auth/users/me/", params={"auth_token": token})
        assert sneaky.status_code == 401
        assert api.http.get("/no/such/path/").status_code == 404
        assert api.http.get("/docs/assets/swagger-ui.css").status_code == 200
    lines = out.getvalue().splitlines()
    assert token not in out.getvalue()
    assert f"/auth/users/{user['id']}/" not in out.getvalue()  # the path as sent
    assert f"/user/{user['id']}/" not in out.getvalue()
    access = []
    for line in lines:
        match = TEXT_LINE.fullmatch(line)
        assert match, line
        if match.group(2) == "authgate.access":
            access.append(match.group(4))
            assert "?" not in line
    routes = [line.rsplit(" ", 2)[0] for line in access]
    assert routes == [
        "POST /auth/users/ 201",
        "POST /auth/token/login/ 200",
        "GET /auth/users/{id}/ 200",
        "GET /auth/users/me/ 200",
        "GET /user/{id}/ 200",
        "GET /auth/users/me/ 401",
        "GET - 404",
        "GET /docs/assets/{path} 200",
    ]
    assert all(line.endswith(" 127.0.0.1") for line in access)


def test_probes_log_at_debug_and_nothing_without_the_access_log(
    serve: Callable[..., Api],
) -> None:
    on, off = serve(access_log=True), serve()
    with captured("json") as out:
        on.http.get("/healthz")
        off.http.get("/auth/users/me/")
    access = [
        json.loads(line)
        for line in out.getvalue().splitlines()
        if json.loads(line)["logger"] == "authgate.access"
    ]
    assert [(a["route"], a["level"]) for a in access] == [("/healthz", "DEBUG")]


# ------------------------------------------------------------------------- authgate serve


def _wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "authgate serve stopped"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("authgate serve did not answer")


@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_serve_with_two_workers_logs_from_each_in_the_format(
    tmp_path: Path, log_format: str
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env |= {
        "AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'authgate.sqlite3'}",
        "AUTHGATE_SECRET_KEY": "serve-two-workers-" + "k" * 40,
        "AUTHGATE_LOG_FORMAT": log_format,
        "AUTHGATE_ACCESS_LOG": "true",
    }
    command = [sys.executable, "-m", "authgate", "serve", "--port", str(port), "--workers", "2"]
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
            for _ in range(10):
                httpx.get(f"http://127.0.0.1:{port}/auth/users/me/", timeout=10)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    messages = []  # "logger message" of each line
    for line in lines:
        if log_format == "json":
            record = json.loads(line)
            assert re.fullmatch(TIMESTAMP, record["time"]), line
            messages.append(f"{record['logger']} {record['message']}")
        else:
            match = TEXT_LINE.fullmatch(line)
            assert match, line
            messages.append(f"{match.group(2)} {match.group(4)}")
    workers = {m for m in messages if m.startswith("uvicorn.error Started server process")}
    assert len(workers) == 2, messages  # each its own pid
    # authgate's own records, from each worker (a worker used to have no handler for them).
    assert sum("authgate DEVELOPMENT MODE" in m for m in messages) == 2, messages
    assert sum(m.startswith("authgate.access GET /auth/users/me/ 401") for m in messages) == 10
    assert any(m.startswith("authgate.migrate ") for m in messages), messages
