"""Issue 12, item 6: a cookie jar that is not a browser runs the /u/api/ cookie flow against a
dev server on http://127.0.0.1, and nothing changes in prod (http/secure_cookies.py).

httpx's jar is the standard library's `http.cookiejar`, as requests' is: it never sends a
`Secure` cookie over plain HTTP. With AUTHGATE_COOKIE_SECURE on (the default) a script could
log in to a dev server and then never use the cookies. The dev server here is `authgate serve`
as a developer starts it (its own process, uvicorn's defaults), with no setting but the
database; prod is a live server with AUTHGATE_ENV=prod. Each flow goes through one
httpx.Client with its jar: login, secure_test by the access cookie, refresh by the refresh
cookie with X-CSRF-Token, logout by cookie, then 401.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.requests import Request

from authgate.http.secure_cookies import secure_cookies
from authgate.settings import Settings
from tests.conftest import TEST_SECRET
from tests.security.helpers import Server, module_server, unique
from tests.support import free_port

PASSWORD = "Correct-Horse-9"
EMAIL = "script@example.com"
PLAIN = {"access_token", "refresh_token", "csrf_token"}
PREFIXED = {"__Secure-access_token", "__Secure-refresh_token", "__Host-csrf_token"}


@dataclass
class DevServer:
    base_url: str
    output: list[str]


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """`authgate serve` in dev with nothing set but its database; its output is kept."""
    folder = tmp_path_factory.mktemp("dev-server")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "authgate", "serve", "--port", str(port)],
        env=clean | {"AUTHGATE_DATABASE_URL": f"sqlite:///{folder / 'authgate.sqlite3'}"},
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(120, server.kill)  # not a sleep: ends a server that never starts
    watchdog.start()
    output: list[str] = []
    assert server.stdout is not None
    # uvicorn binds its socket after the app's startup: ready once it says it is running.
    for line in server.stdout:
        output.append(line)
        if "Uvicorn running on" in line:
            break
    watchdog.cancel()
    # Keep reading, so that the server never blocks on a full pipe.
    drain = threading.Thread(target=lambda: output.extend(server.stdout or ()), daemon=True)
    drain.start()
    try:
        assert "Application startup complete" in "".join(output), "".join(output)
        assert "Uvicorn running on" in "".join(output), "".join(output)
        yield DevServer(f"http://127.0.0.1:{port}", output)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def prod_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A live server in prod with the default (Secure) cookies."""
    with module_server(tmp_path_factory.mktemp("prod"), env="prod", cookie_secure=True) as found:
        yield found


def _register(http: httpx.Client, email: str) -> None:
    username = email.split("@")[0]
    body = {"username": username, "email": email, "password": PASSWORD}
    created = http.post("/auth/users/", json=body)
    assert created.status_code == 201, created.text


def _login(http: httpx.Client, email: str) -> httpx.Response:
    answer = http.post("/u/api/login/", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return answer


def _set_cookies(answer: httpx.Response) -> dict[str, str]:
    return {raw.split("=", 1)[0]: raw for raw in answer.headers.get_list("set-cookie")}


@pytest.mark.slow
def test_a_cookie_jar_runs_the_cookie_flow_against_a_dev_server_on_127_0_0_1(
    dev_server: DevServer,
) -> None:
    with httpx.Client(base_url=dev_server.base_url, timeout=30) as http:
        _register(http, EMAIL)
        logged_in = _login(http, EMAIL)
        cookies = _set_cookies(logged_in)
        # Not Secure, so not prefixed (a browser drops a prefixed cookie that is not Secure).
        assert set(cookies) == PLAIN, cookies
        assert not any("secure" in raw.lower().split("; ") for raw in cookies.values()), cookies
        assert "HttpOnly" in cookies["access_token"]  # the rest of the attributes stand
        assert set(http.cookies.keys()) == PLAIN

        by_cookie = http.get("/u/api/secure_test/")  # no Authorization: the access cookie
        assert by_cookie.status_code == 200, by_cookie.text

        csrf = {"X-CSRF-Token": http.cookies["csrf_token"]}
        refreshed = http.post("/u/api/refresh/", headers=csrf)  # no body: the refresh cookie
        assert refreshed.status_code == 200, refreshed.text
        assert http.cookies["access_token"] == refreshed.json()["access_token"]
        assert http.get("/u/api/secure_test/").status_code == 200

        out = http.post("/u/api/logout/", headers={"X-CSRF-Token": http.cookies["csrf_token"]})
        assert out.status_code == 200, out.text
        assert not set(http.cookies.keys()) & PLAIN
        assert http.get("/u/api/secure_test/").status_code == 401
        # The tokens of that login are over, not just forgotten by the jar.
        again = http.get(
            "/u/api/secure_test/",
            headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"},
        )
        assert again.status_code == 401


@pytest.mark.slow
def test_the_dev_server_says_at_startup_what_to_set(dev_server: DevServer) -> None:
    # A line of logs.py's format: "<time> WARNING <logger> [<request id>] <message>".
    lines = [line for line in dev_server.output if "AUTHGATE_COOKIE_SECURE=false" in line]
    assert len(lines) == 1, "".join(dev_server.output)
    assert " WARNING " in lines[0]
    assert "127.0.0.1" in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "auth.example.test"},  # another name for this machine: perhaps not for others
        {"X-Forwarded-For": "203.0.113.9"},  # a proxy on this machine, a client elsewhere
        {"Forwarded": "for=203.0.113.9;proto=http"},
    ],
    ids=["other-host", "x-forwarded-for", "forwarded"],
)
def test_only_a_direct_request_to_a_loopback_name_is_excepted(
    dev_server: DevServer, headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=dev_server.base_url, timeout=30, headers=headers) as http:
        email = f"{unique('elsewhere')}@example.com"
        _register(http, email)
        cookies = _set_cookies(_login(http, email))
        assert set(cookies) == PREFIXED, cookies
        assert all("; secure" in raw.lower() for raw in cookies.values()), cookies
        # ...so the jar keeps them to itself over plain HTTP: the reason for the exception.
        assert http.get("/u/api/secure_test/").status_code == 401


def test_prod_sets_secure_prefixed_cookies_over_any_transport(prod_server: Server) -> None:
    with prod_server.client() as http:
        _register(http, "prod@example.com")
        cookies = _set_cookies(_login(http, "prod@example.com"))
        assert set(cookies) == PREFIXED, cookies
        assert all("; secure" in raw.lower() for raw in cookies.values()), cookies
        assert "Path=/u/api/refresh/" in cookies["__Secure-refresh_token"]
        assert "Path=/;" in cookies["__Host-csrf_token"] + ";"
        assert http.get("/u/api/secure_test/").status_code == 401  # the jar keeps them


def _request(peer: str, host: str, scheme: str = "http", **headers: str) -> Request:
    raw = [(b"host", host.encode())] + [(k.encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "scheme": scheme, "client": (peer, 50000), "headers": raw}
    return Request(scope)


DIRECT = [
    ("127.0.0.1", "127.0.0.1:8000"),
    ("127.0.0.1", "localhost:8000"),
    ("127.0.0.1", "app.localhost"),
    ("::1", "[::1]:8000"),
    ("::ffff:127.0.0.1", "LOCALHOST"),  # a dual-stack socket's view of an IPv4 peer
]
NOT_DIRECT = [
    ("192.168.1.20", "127.0.0.1:8000"),  # a peer elsewhere
    ("127.0.0.1", "auth.example.test"),
    ("127.0.0.1", "192.168.1.5:8000"),
    ("127.0.0.1", "[::1"),  # a malformed Host: no exception, and no error
    ("127.0.0.1", ""),
]


@pytest.mark.parametrize(("peer", "host"), DIRECT)
def test_the_decision_excepts_direct_local_http_in_dev_only(peer: str, host: str) -> None:
    dev = Settings(_env_file=None, secret_key=TEST_SECRET)
    assert secure_cookies(_request(peer, host), dev) is False
    assert secure_cookies(_request(peer, host, "https"), dev) is True
    assert secure_cookies(_request(peer, host, **{"x-real-ip": "203.0.113.9"}), dev) is True
    samesite_none = Settings(_env_file=None, secret_key=TEST_SECRET, cookie_samesite="none")
    assert secure_cookies(_request(peer, host), samesite_none) is True  # browsers need Secure
    prod = Settings(_env_file=None, env="prod", secret_key=TEST_SECRET, smtp_host="m.example")
    assert secure_cookies(_request(peer, host), prod) is True
    off = Settings(_env_file=None, secret_key=TEST_SECRET, cookie_secure=False)
    assert secure_cookies(_request(peer, host, "https"), off) is False


@pytest.mark.parametrize(("peer", "host"), NOT_DIRECT)
def test_the_decision_keeps_secure_for_anything_else(peer: str, host: str) -> None:
    dev = Settings(_env_file=None, secret_key=TEST_SECRET)
    assert secure_cookies(_request(peer, host), dev) is True
