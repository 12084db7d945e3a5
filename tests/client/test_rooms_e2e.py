"""The example service end to end, as two real processes: `authgate serve` and
`python examples/rooms` (uvicorn), each on a free port. Register, log in, book a room, log out,
and the room service refuses the old token; then authgate stops and the room service answers
503 instead of letting anyone in."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from tests.client.support import PASSWORD
from tests.support import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 40.0
CACHE_SECONDS = "1"
"""The room service's cache of vouched-for tokens: how long a logged-out token may still pass."""


def _authgate_command() -> list[str]:
    script = Path(sys.executable).with_name("authgate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "authgate"]


@contextmanager
def _process(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """The command as a child in a process group of its own, which is ended on the way out:
    the demo (--with-authgate) starts authgate as its own child, which a kill of the demo
    alone (after its 10 s to stop) would leave serving."""
    with log.open("wb") as output:
        child = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield child
        finally:
            _signal_group(child, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                child.wait(timeout=10)
            _signal_group(child, signal.SIGKILL)  # whatever did not stop in time
            child.wait()


def _signal_group(child: subprocess.Popen[bytes], signal_number: int) -> None:
    with suppress(ProcessLookupError):  # the whole group has ended
        os.killpg(child.pid, signal_number)


def _wait_until_up(url: str, child: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if child.poll() is not None:
            pytest.fail(f"{url} exited with {child.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        return
    pytest.fail(f"{url} did not start in {STARTUP_SECONDS} s:\n{log.read_text()}")


def _eventually_status(call: object, expected: int, within: float = 15.0) -> httpx.Response:
    """Repeat `call` until it answers `expected` (a cache may hold the old answer a moment)."""
    deadline = time.monotonic() + within
    while True:
        response: httpx.Response = call()  # type: ignore[operator]
        if response.status_code == expected or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_rooms_behind_authgate_as_two_processes(tmp_path: Path) -> None:
    authgate_port, rooms_port = free_port(), free_port()
    while rooms_port == authgate_port:
        rooms_port = free_port()
    authgate_url = f"http://127.0.0.1:{authgate_port}"
    rooms_url = f"http://127.0.0.1:{rooms_port}"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHGATE_", "ROOMS_"))}
    authgate_env = base_env | {
        "AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'authgate.sqlite3'}",
        "AUTHGATE_SECRET_KEY": secrets.token_urlsafe(48),
        "AUTHGATE_LOG_LEVEL": "warning",
    }
    rooms_env = base_env | {"ROOMS_CACHE_SECONDS": CACHE_SECONDS}
    authgate_log, rooms_log = tmp_path / "authgate.log", tmp_path / "rooms.log"
    authgate_cmd = [*_authgate_command(), "serve", "--host", "127.0.0.1"]
    authgate_cmd += ["--port", str(authgate_port)]
    rooms_cmd = [sys.executable, "examples/rooms", "--port", str(rooms_port)]
    rooms_cmd += ["--authgate-url", authgate_url]

    with (
        _process(authgate_cmd, authgate_env, authgate_log) as authgate,
        _process(rooms_cmd, rooms_env, rooms_log) as rooms,
        httpx.Client(base_url=authgate_url, timeout=30) as auth,
        httpx.Client(base_url=rooms_url, timeout=30) as service,
    ):
        _wait_until_up(authgate_url + "/.well-known/jwks.json", authgate, authgate_log)
        _wait_until_up(rooms_url + "/health", rooms, rooms_log)

        assert service.get("/api/rooms/").status_code == 401
        registered = auth.post("/auth/users/", json={"username": "ann", "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        login = auth.post("/auth/token/login/", json={"username": "ann", "password": PASSWORD})
        token = login.json()["auth_token"]
        headers = {"Authorization": f"Token {token}"}

        listed = service.get("/api/rooms/", headers=headers)
        assert listed.status_code == 200, listed.text
        room = listed.json()["rooms"][0]["id"]
        booking = {"room": room, "date": "2026-12-01"}
        booked = service.post("/api/rooms/", json=booking, headers=headers)
        assert booked.status_code == 201, booked.text
        assert booked.json()["booked_by"] == {"id": str(registered.json()["id"]), "username": "ann"}
        again = service.post("/api/rooms/", json=booking, headers=headers)
        assert again.status_code == 409
        assert service.get("/api/rooms/", headers=headers).json()["rooms"][0]["bookings"]

        # A JWT of authgate's default (HS256) configuration passes the default guard too.
        pair = auth.post("/auth/jwt/create/", json={"username": "ann", "password": PASSWORD})
        jwt_headers = {"Authorization": f"Bearer {pair.json()['access']}"}
        assert service.get("/api/rooms/", headers=jwt_headers).status_code == 200

        assert auth.post("/auth/token/logout/", headers=headers).status_code == 204
        refused = _eventually_status(lambda: service.get("/api/rooms/", headers=headers), 401)
        assert refused.status_code == 401, refused.text
        assert refused.json() == {"detail": "Invalid token."}

        # The envelope API's tokens are the same tokens; then authgate goes away: 503, not 200.
        envelope = auth.post("/api/v1/login/", json={"username": "ann", "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {envelope.json()['data']['token']}"}
        assert service.get("/api/rooms/", headers=bearer).status_code == 200
        authgate.terminate()
        authgate.wait(timeout=10)
        fresh = {"Authorization": "Bearer " + "f" * 40}
        assert service.get("/api/rooms/", headers=fresh).status_code == 503
        down = _eventually_status(lambda: service.get("/api/rooms/", headers=bearer), 503)
        assert down.status_code == 503, down.text


def test_the_one_command_demo_takes_tokens_and_jwts(tmp_path: Path) -> None:
    """`python examples/rooms --with-authgate`, as its README says (on free ports): authgate's
    default configuration signs JWTs with HS256, the demo's guard runs with its defaults, and
    a JWT passes; the guard says once, in the demo's log, how to verify such tokens locally."""
    authgate_port, rooms_port = free_port(), free_port()
    while rooms_port == authgate_port:
        rooms_port = free_port()
    authgate_url = f"http://127.0.0.1:{authgate_port}"
    rooms_url = f"http://127.0.0.1:{rooms_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHGATE_", "ROOMS_"))}
    env["AUTHGATE_LOG_LEVEL"] = "warning"
    log = tmp_path / "demo.log"
    command = [sys.executable, "examples/rooms", "--with-authgate"]
    command += ["--authgate-url", authgate_url, "--port", str(rooms_port)]
    with (
        _process(command, env, log) as demo,
        httpx.Client(base_url=authgate_url, timeout=30) as auth,
        httpx.Client(base_url=rooms_url, timeout=30) as service,
    ):
        _wait_until_up(rooms_url + "/health", demo, log)
        _wait_until_up(authgate_url + "/.well-known/jwks.json", demo, log)
        credentials = {"username": "ann", "password": PASSWORD}
        assert auth.post("/auth/users/", json=credentials).status_code == 201
        token = auth.post("/auth/token/login/", json=credentials).json()["auth_token"]
        assert service.get("/api/rooms/", headers={"Authorization": f"Token {token}"}).is_success
        for _ in range(2):
            access = auth.post("/auth/jwt/create/", json=credentials).json()["access"]
            answer = service.get("/api/rooms/", headers={"Authorization": f"Bearer {access}"})
            assert answer.status_code == 200, answer.text
        forged = service.get("/api/rooms/", headers={"Authorization": "Bearer a.b.c"})
        assert forged.status_code == 401
    said = [line for line in log.read_text().splitlines() if "authgate guard:" in line]
    assert len(said) == 1, log.read_text()
    assert "a HS256 JWT arrived" in said[0]
