"""Issue 11, item 15: slow clients are timed out, and a worker's connections are bounded.

Against a live server over real sockets, with AUTHGATE_REQUEST_RECEIVE_TIMEOUT_SECONDS=1: a
body trickled a byte at a time is answered 408 and the connection closed; a head trickled a
byte at a time (or never sent) has its connection closed; both well within the bound plus a
margin, where the old server waited forever. Requests sent at a normal pace are unaffected.
With AUTHGATE_MAX_CONNECTIONS_PER_WORKER reached, a new request is answered 503.
The servers are real `authgate serve` processes, so the bounds are those that ship. (No
database is involved beyond the server's start: SQLite only.)
"""

from __future__ import annotations

import select
import shutil
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from authgate.settings import Settings
from tests.conftest import TEST_SECRET
from tests.faults.support import Node, start_node, stop
from tests.security.helpers import PASSWORD, unique
from tests.support import live_server

pytestmark = pytest.mark.slow

BOUND = 1.0  # the receive timeout of the node, in seconds
GIVE_UP = 6.0  # a server without the bound keeps the connection past this
TRICKLE = 0.2  # seconds between two bytes
LIMIT = 4  # connections per worker of the crowded node
KEEP_ALIVE = 5.0  # uvicorn's timeout_keep_alive, which authgate serve leaves at its default


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two real `authgate serve` processes (uvicorn as it ships): one with the receive bound,
    one with few connections; (their base URLs)."""
    workdir = tmp_path_factory.mktemp("slow")
    settings = {
        "slow": {"request_receive_timeout_seconds": str(BOUND)},
        "crowd": {"max_connections_per_worker": str(LIMIT)},
    }
    with ThreadPoolExecutor() as pool:  # both start at once
        starting = [
            pool.submit(_start, workdir, name, setting) for name, setting in settings.items()
        ]
    started = [future.result() for future in starting if future.exception() is None]
    try:
        assert len(started) == len(starting), [f.exception() for f in starting]
        yield started[0].url, started[1].url
    finally:
        for node in started:
            stop(node)


def _start(workdir: Path, name: str, settings: dict[str, str]) -> Node:
    return start_node(f"sqlite:///{workdir / name}.sqlite3", workdir, 1, **settings)


@pytest.fixture(scope="module")
def slow_server(nodes: tuple[str, str]) -> str:
    return nodes[0]


def _connect(base_url: str) -> socket.socket:
    parts = urlsplit(base_url)
    return socket.create_connection((parts.hostname or "", parts.port or 80), timeout=GIVE_UP)


def _trickle(connection: socket.socket, data: bytes) -> tuple[bytes, float]:
    """Send `data` a byte every TRICKLE seconds until the server answers or closes; (what it
    sent back until it closed, seconds from the first byte). Gives up after GIVE_UP."""
    start = time.monotonic()
    for byte in data:
        try:
            connection.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            break
        readable, _, _ = select.select([connection], [], [], TRICKLE)
        if readable or time.monotonic() - start > GIVE_UP:
            break
    received = _read_until_closed(connection, start)
    return received, time.monotonic() - start


def _read_until_closed(connection: socket.socket, start: float) -> bytes:
    received = b""
    connection.settimeout(max(0.1, GIVE_UP - (time.monotonic() - start)))
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except TimeoutError:
        received += b"<still open>"
    except ConnectionResetError:
        pass
    return received


def test_trickled_body_is_answered_408_and_closed(slow_server: str) -> None:
    json_body = b'{"username": "nobody", "password": "' + b"x" * 200 + b'"}'
    form_body = b"csrf_token=t&username=nobody&password=" + b"x" * 200
    for path, media_type, body in (
        ("/auth/token/login/", "application/json", json_body),  # the fast lane's read
        ("/u/api/login/", "application/json", json_body),
        ("/admin/login", "application/x-www-form-urlencoded", form_body),  # Starlette's form
    ):
        head = (
            f"POST {path} HTTP/1.1\r\nHost: authgate\r\nContent-Type: {media_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with _connect(slow_server) as connection:
            connection.sendall(head)
            received, elapsed = _trickle(connection, body)
        assert received.startswith(b"HTTP/1.1 408 "), (path, received[:200])
        assert not received.endswith(b"<still open>"), path
        assert elapsed < BOUND + 2, (path, elapsed)


def test_trickled_head_is_closed(slow_server: str) -> None:
    head = b"GET /u/api/test/ HTTP/1.1\r\nHost: authgate\r\nX-Slow: " + b"a" * 100 + b"\r\n\r\n"
    with _connect(slow_server) as connection:
        received, elapsed = _trickle(connection, head)
    assert received == b"", received[:200]
    assert elapsed < BOUND + 2, elapsed


def test_silent_connection_is_closed(slow_server: str) -> None:
    with _connect(slow_server) as connection:
        start = time.monotonic()
        received = _read_until_closed(connection, start)
    assert received == b"", received[:200]
    assert time.monotonic() - start < BOUND + 2


def test_slow_head_after_a_kept_alive_answer_is_closed(slow_server: str) -> None:
    """The bound restarts after each answer: the second head of a connection is bounded too."""
    with _connect(slow_server) as connection:
        connection.sendall(b"GET /u/api/test/ HTTP/1.1\r\nHost: authgate\r\n\r\n")
        first = b""
        while not first.endswith(b'"Successful test"}'):  # the whole answer, body included
            chunk = connection.recv(65536)
            assert chunk, first
            first += chunk
        assert first.startswith(b"HTTP/1.1 200 "), first[:200]
        received, elapsed = _trickle(connection, b"GET /u/api/test/ HTTP/1.1\r\nX-Slow: " * 10)
    assert received == b"", received[:200]
    assert elapsed < BOUND + 2, elapsed


def test_an_idle_kept_alive_connection_is_closed_after_uvicorns_bound(
    nodes: tuple[str, str],
) -> None:
    """uvicorn's keep-alive bound (timeout_keep_alive, 5 s by default) holds under the
    protocol's own timer, which keeps it instead of uvicorn's timer per answer: a connection on
    which nothing comes after an answer is closed then, not before (the crowded node's receive
    bound is the default 30 s)."""
    with _connect(nodes[1]) as connection:
        connection.sendall(b"GET /u/api/test/ HTTP/1.1\r\nHost: authgate\r\n\r\n")
        answer = b""
        while not answer.endswith(b'"Successful test"}'):
            chunk = connection.recv(65536)
            assert chunk, answer
            answer += chunk
        answered = time.monotonic()
        connection.settimeout(KEEP_ALIVE + GIVE_UP)
        assert connection.recv(65536) == b""  # closed by the server
        idle = time.monotonic() - answered
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert KEEP_ALIVE - 0.2 < idle < KEEP_ALIVE + 2, idle


def test_requests_at_a_normal_pace_are_unaffected(slow_server: str) -> None:
    name = unique("pace")
    login = {"username": name, "password": PASSWORD}
    # Several requests on one kept-alive connection, each well within the bound.
    with httpx.Client(base_url=slow_server, timeout=GIVE_UP) as client:
        assert client.post("/auth/users/", json=login).status_code == 201
        for _ in range(3):
            assert client.post("/auth/token/login/", json=login).status_code == 200
            assert client.get("/u/api/test/").status_code == 200
    # A body in a few chunks, quicker than the bound.
    body = f'{{"username": "{name}", "password": "{PASSWORD}"}}'.encode()
    with _connect(slow_server) as connection:
        connection.sendall(
            b"POST /auth/token/login/ HTTP/1.1\r\nHost: authgate\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        for part in (body[:10], body[10:20], body[20:]):
            connection.sendall(part)
            time.sleep(BOUND / 10)
        received = _read_until_closed(connection, time.monotonic())
    assert received.startswith(b"HTTP/1.1 200 "), received[:300]


def test_connections_past_the_worker_limit_are_answered_503(nodes: tuple[str, str]) -> None:
    crowded_url = nodes[1]
    held = []
    try:
        # Connections that made a request and stay open (kept alive); with the next one they
        # are LIMIT (uvicorn counts the asking connection too).
        for _ in range(LIMIT - 1):
            connection = _connect(crowded_url)
            connection.sendall(b"GET /u/api/test/ HTTP/1.1\r\nHost: authgate\r\n\r\n")
            assert connection.recv(65536).startswith(b"HTTP/1.1 200 ")
            held.append(connection)
        crowded = httpx.get(crowded_url + "/u/api/test/", timeout=GIVE_UP)
        assert crowded.status_code == 503, crowded.text
    finally:
        for connection in held:
            connection.close()
    # Once they are gone (the worker learns it a moment later), requests are served.
    deadline = time.monotonic() + GIVE_UP
    while (status := httpx.get(crowded_url + "/u/api/test/", timeout=GIVE_UP).status_code) == 503:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status == 200


@pytest.fixture(scope="module")
def plain_uvicorn(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """create_app's app under uvicorn's own protocol (as another server would run it): the body
    is bounded by the app's outermost layer, BodyTimeout, not by authgate serve's protocol."""
    database = tmp_path_factory.mktemp("plain") / "authgate.sqlite3"
    shutil.copy(sqlite_template, database)
    settings = Settings(
        database_url=f"sqlite:///{database}",
        secret_key=TEST_SECRET,
        request_receive_timeout_seconds=BOUND,
        _env_file=None,
    )
    with live_server(settings) as url:
        yield url


def _trickled_login(base_url: str) -> tuple[bytes, float]:
    body = b'{"username": "nobody", "password": "' + b"x" * 200 + b'"}'
    head = (
        "POST /auth/token/login/ HTTP/1.1\r\nHost: authgate\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with _connect(base_url) as connection:
        connection.sendall(head)
        return _trickle(connection, body)


def test_under_another_server_the_app_bounds_the_body(plain_uvicorn: str) -> None:
    received, elapsed = _trickled_login(plain_uvicorn)
    assert received.startswith(b"HTTP/1.1 408 "), received[:200]
    assert b'"Request timeout: the request was not received in time."' in received
    assert elapsed < BOUND + 2, elapsed


def test_both_bounds_answer_the_same_408(slow_server: str, plain_uvicorn: str) -> None:
    """authgate serve's protocol writes the 408 itself: the same status, JSON body, closing
    and security headers as the app's BodyTimeout."""

    def answer(base_url: str) -> tuple[bytes, dict[bytes, bytes], bytes]:
        received, _ = _trickled_login(base_url)
        head, _, body = received.partition(b"\r\n\r\n")
        status, *lines = head.split(b"\r\n")
        fields = dict(line.lower().split(b": ", 1) for line in lines)
        for uvicorns in (b"date", b"server"):  # on the app's answer only (serve drops server)
            fields.pop(uvicorns, None)
        return status.split(b" ")[1], fields, body

    assert answer(slow_server) == answer(plain_uvicorn)
