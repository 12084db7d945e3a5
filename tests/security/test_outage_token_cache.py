"""Issue 11, item 22: while PostgreSQL is away, tokens a worker has cached keep being accepted
(as docs/security.md promises), for at most the cache's TTL; the outage is logged once, and its end
once, not a traceback per poll of the revocation feed.

PostgreSQL is made unreachable through a TCP proxy the test starts and stops: the shared server
itself is never touched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from tests.faults.proxy import tcp_proxy, through
from tests.security.helpers import NO_THROTTLE
from tests.support import Api

TTL = 3.0
POSTGRES_ONLY = [pytest.param("postgres", marks=pytest.mark.postgres)]


def _messages(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


@pytest.mark.parametrize("database_url", POSTGRES_ONLY, indirect=True)
def test_cached_tokens_are_served_through_a_postgres_outage_until_their_ttl(
    database_url: str, serve: Callable[..., Api], caplog: pytest.LogCaptureFixture
) -> None:
    target = urlsplit(database_url)
    with tcp_proxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        api = serve(
            database_url=through(database_url, proxy),
            token_cache_ttl_seconds=TTL,
            database_timeout_seconds=1.0,
            **NO_THROTTLE,
        )
        api.register("outage")
        token = api.login("outage")

        def me() -> httpx.Response:
            return api.http.get("/auth/users/me/", headers=api.as_user(token))

        # The login's own row on the feed (last_login changed) evicts the user once it is read:
        # let that pass before the token is cached.
        time.sleep(0.5)
        assert me().status_code == 200  # resolved from the database, and cached
        cached_at = time.monotonic()
        time.sleep(0.2)  # its first use is recorded off the request's path: let that pass too
        caplog.set_level(logging.INFO, logger="authgate")
        caplog.clear()
        proxy.down()

        during = []
        while time.monotonic() < cached_at + TTL - 1.0:
            during.append(me().status_code)
            time.sleep(0.1)
        assert len(during) >= 5
        assert set(during) == {200}, during

        time.sleep(max(0.0, cached_at + TTL + 0.3 - time.monotonic()))
        expired = me()  # past the TTL the token is asked of the database, which is away
        assert expired.status_code == 503, expired.text
        assert set(expired.json()) == {"detail"}

        proxy.up()
        deadline = time.monotonic() + 10
        while me().status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert me().status_code == 200
        deadline = time.monotonic() + 5
        while not _messages(caplog, "revocation feed again") and time.monotonic() < deadline:
            time.sleep(0.05)

        assert len(_messages(caplog, "cannot read the revocation feed")) == 1
        assert len(_messages(caplog, "revocation feed again")) == 1
        tracebacks = [r.getMessage() for r in caplog.records if r.exc_info]
        assert tracebacks == []
