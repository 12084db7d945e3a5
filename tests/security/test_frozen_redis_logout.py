"""Issue 11, item 25 (the revocation side): a frozen Redis (it accepts connections and never
answers) must not make a logout wait. Publishing the revocation on Redis is off the request's
path; the database feed stays the backstop.

Redis here is a private redis-server the test starts and freezes with SIGSTOP; the shared one is
never touched.
"""

from __future__ import annotations

import shutil
import signal
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from tests.security.helpers import NO_THROTTLE, unique
from tests.support import Api, free_port

pytestmark = pytest.mark.slow

LOGOUTS = 5
# A logout waited 505 ms on Redis's socket timeout before; without Redis it takes a few ms.
MEDIAN_LIMIT_SECONDS = 0.25


@pytest.fixture
def private_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own, on a free port: (its URL, its process)."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server here")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/6"
    client = redis.Redis.from_url(url, socket_timeout=1)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url, proc
    finally:
        client.close()
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)


def test_a_frozen_redis_does_not_hold_up_logouts(
    serve: Callable[..., Api], private_redis: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, redis_process = private_redis
    api = serve(redis_url=url, **NO_THROTTLE)
    name = unique("frozen")
    api.register(name)
    tokens = [api.login(name) for _ in range(LOGOUTS)]

    redis_process.send_signal(signal.SIGSTOP)
    try:
        seconds = []
        for token in tokens:
            started = time.monotonic()
            response = api.http.post("/auth/token/logout/", headers=api.as_user(token))
            seconds.append(time.monotonic() - started)
            assert response.status_code == 204, response.text
    finally:
        redis_process.send_signal(signal.SIGCONT)

    assert statistics.median(seconds) < MEDIAN_LIMIT_SECONDS, seconds
    # The revocations held all the same (the database feed, and this process at once).
    for token in tokens:
        answer = api.http.get("/auth/users/me/", headers=api.as_user(token))
        assert answer.status_code == 401, answer.text
