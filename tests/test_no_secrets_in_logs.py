"""No password or token reaches a log (ASVS 16.2.5): a realistic flow through every dialect with
everything logging at DEBUG, uvicorn's and authgate's access logs on and the JSON format
written, then a search of every record, and of every line written, for every secret the flow
used. The session-wide check (tests/conftest.py `session_log`) does the same
for the whole test run, at the levels the other tests run with."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from authgate.app import create_app
from authgate.logs import stream_handler
from authgate.settings import Settings
from tests.log_capture import FOREIGN_LOGGERS, SessionLog
from tests.support import Mailbox, link_parts

PASSWORD = "Correct-Horse-9"
NEW_PASSWORD = "Brand-New-Horse-5"
CHANGED_PASSWORD = "Third-Horse-77!"
EMAIL = "john@example.com"


@contextmanager
def _debug_server(settings: Settings) -> Iterator[httpx.Client]:
    """The app under uvicorn with its access log on and every logger at DEBUG."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=0,
        log_level="debug",
        access_log=True,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            assert thread.is_alive(), "the server did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        root.setLevel(level)


def _flow(http: httpx.Client, mail: Mailbox) -> list[str]:
    """Register, log in through every dialect, refresh, check, reset and change the password,
    log out; every secret used, in order."""
    secrets = [PASSWORD, NEW_PASSWORD, CHANGED_PASSWORD]

    def ok(response: httpx.Response, status: int = 200) -> httpx.Response:
        assert response.status_code == status, (response.request.url, response.text)
        return response

    body = {"username": "john", "email": EMAIL, "password": PASSWORD}
    ok(http.post("/auth/users/", json=body), 201)
    # Djoser: token login (JSON and form), me, a wrong password.
    token = ok(http.post("/auth/token/login/", json={"username": "john", "password": PASSWORD}))
    auth_token = token.json()["auth_token"]
    form = http.post("/auth/token/login/", data={"username": "john", "password": PASSWORD})
    second_token = ok(form).json()["auth_token"]
    secrets += [auth_token, second_token]
    ok(http.get("/auth/users/me/", headers={"Authorization": f"Token {auth_token}"}))
    wrong = http.post("/auth/token/login/", json={"username": "john", "password": "Wrong-Horse-1"})
    assert wrong.status_code == 400
    secrets.append("Wrong-Horse-1")
    # A token in a query string, which no endpoint reads: the access log must not keep it.
    assert http.get("/auth/users/me/", params={"auth_token": auth_token}).status_code == 401
    # SimpleJWT: create, refresh, verify.
    pair = ok(http.post("/auth/jwt/create/", json={"username": "john", "password": PASSWORD}))
    refresh, access = pair.json()["refresh"], pair.json()["access"]
    refreshed = ok(http.post("/auth/jwt/refresh/", json={"refresh": refresh})).json()["access"]
    ok(http.post("/auth/jwt/verify/", json={"token": refreshed}))
    secrets += [refresh, access, refreshed]
    # Envelope: login, check_token (fast lane and full view), logout.
    envelope = ok(http.post("/api/v1/login/", json={"username": "john", "password": PASSWORD}))
    envelope_token = envelope.json()["data"]["token"]
    bearer = {"Authorization": f"Bearer {envelope_token}"}
    ok(http.post("/api/v1/check_token/", json={"username": "john"}, headers=bearer))
    ok(http.post("/api/v1/check_token/", data={"username": "john"}, headers=bearer))
    ok(http.post("/api/v1/logout/", headers=bearer))
    secrets.append(envelope_token)
    # /u/api/: login (cookies too), refresh by body, a secured GET, logout.
    u_login = ok(http.post("/u/api/login/", json={"email": EMAIL, "password": PASSWORD})).json()
    u_refreshed = ok(
        http.post("/u/api/refresh/", json={"refresh_token": u_login["refresh_token"]})
    ).json()
    u_bearer = {"Authorization": f"Bearer {u_refreshed['access_token']}"}
    ok(http.get("/u/api/secure_test/", headers=u_bearer))
    ok(http.post("/u/api/logout/", headers=u_bearer))
    secrets += [u_login["access_token"], u_login["refresh_token"]]
    secrets += [u_refreshed["access_token"], u_refreshed["refresh_token"]]
    # Password reset through the test SMTP server, then a change with the current password.
    ok(http.post("/auth/users/reset_password/", json={"email": EMAIL}), 204)
    (message,) = mail.wait_for(EMAIL)
    uid, reset_token = link_parts(message)
    confirm = {"uid": uid, "token": reset_token, "new_password": NEW_PASSWORD}
    ok(http.post("/auth/users/reset_password_confirm/", json=confirm), 204)
    secrets.append(reset_token)
    login = {"username": "john", "password": NEW_PASSWORD}
    new_token = ok(http.post("/auth/token/login/", json=login)).json()["auth_token"]
    change = {"current_password": NEW_PASSWORD, "new_password": CHANGED_PASSWORD}
    headers = {"Authorization": f"Token {new_token}"}
    ok(http.post("/auth/users/set_password/", json=change, headers=headers), 204)
    login = {"username": "john", "password": CHANGED_PASSWORD}
    last_token = ok(http.post("/auth/token/login/", json=login)).json()["auth_token"]
    ok(http.post("/auth/token/logout/", headers={"Authorization": f"Token {last_token}"}), 204)
    secrets += [new_token, last_token]
    return secrets


@contextmanager
def _json_lines() -> Iterator[io.StringIO]:
    """What the service's handler writes with AUTHGATE_LOG_FORMAT=json, meanwhile."""
    out = io.StringIO()
    handler = stream_handler("json", out)
    access = logging.getLogger("authgate.access")
    level = access.level
    access.setLevel(logging.NOTSET)  # as `authgate serve` run in-process by a test may leave it
    logging.getLogger().addHandler(handler)
    try:
        yield out
    finally:
        logging.getLogger().removeHandler(handler)
        access.setLevel(level)


def test_a_whole_flow_at_debug_logs_no_secret(
    make_settings: Callable[..., Settings], mail: Mailbox, session_log: SessionLog
) -> None:
    start = len(session_log.records)
    with _debug_server(make_settings(access_log=True)) as http, _json_lines() as out:
        secrets = _flow(http, mail)
    records = session_log.records[start:]
    # authgate's access log in JSON: a line per request, route templates, no query string.
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    ours = [line for line in lines if line["logger"] == "authgate.access"]
    assert ("POST", "/auth/token/login/", 200) in {
        (line["method"], line["route"], line["status"]) for line in ours
    }
    assert ("GET", "/auth/users/me/", 401) in {
        (line["method"], line["route"], line["status"]) for line in ours
    }
    assert not [line for line in ours if "?" in json.dumps(line)]
    written = [
        line
        for line in out.getvalue().splitlines()
        if not json.loads(line)["logger"].startswith(FOREIGN_LOGGERS)
    ]
    assert [s[:12] for s in secrets if any(s in line for line in written)] == []
    # The logs were really on: uvicorn's access log and DEBUG records of several loggers.
    access = [r.getMessage() for r in records if r.name == "uvicorn.access"]
    assert any('"POST /auth/token/login/ HTTP/1.1" 200' in line for line in access), access
    assert any(r.levelno == logging.DEBUG for r in records)
    # The query string is cut from the access log, the path is kept.
    assert any('"GET /auth/users/me/?… HTTP/1.1" 401' in line for line in access), access
    assert len(set(secrets)) == len(secrets)
    assert session_log.leaks(secrets, records) == []
    # Every secret of the flow was also seen by the session-wide collector.
    assert set(secrets) <= session_log.secrets


def test_the_search_finds_a_secret_that_was_logged() -> None:
    log = SessionLog()
    log.add_secret("9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b")
    log.add_secret("short")  # too short to search for: ignored
    record = logging.LogRecord(
        "authgate.test",
        logging.INFO,
        __file__,
        1,
        "token %s",
        ("9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",),
        None,
    )
    log.records.append(record)
    assert log.secrets == {"9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}
    assert log.leaks() == ["authgate.test: 9944b09199c6…"]
