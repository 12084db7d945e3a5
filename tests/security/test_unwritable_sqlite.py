"""Issue 11, item 24: a SQLite database that cannot take a write (a full disk, a read-only file)
makes registration, login and logout answer 503 in the dialect's shape, as a database that is
away does (not "Unable to create account.", not a bare 500); reads keep working, and writes
work again once there is room. `serve` and `migrate` refuse to start on a read-only database
with one line, not a traceback.

Tests run as root, where a file's mode does not stop writes: the disk is a small tmpfs, and the
read-only file a read-only bind mount of it onto itself. Both need mount rights (skipped
without them).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.security.helpers import PASSWORD, Account, module_server, unique
from tests.support import free_port, live_server


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


@contextlib.contextmanager
def _small_disk(directory: Path) -> Iterator[Path]:
    directory.mkdir()
    _mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(directory))
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """The file read-only, for root too: a read-only bind mount of it onto itself (its
    directory stays writable, as for a file of mode 0444 owned by someone else)."""
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,ro,bind", str(path))
        yield
    finally:
        subprocess.run(["umount", str(path)], check=False)


def _fill(directory: Path) -> Path:
    """Take every free byte of the disk holding `directory`."""
    filler = directory / "filler"
    # Unbuffered, and the suppress around the close too: a buffered file's close flushes what
    # the last write left, and on a full disk that raises again.
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 65536)
    return filler


def _assert_writes_unavailable(http: httpx.Client, account: Account) -> None:
    """Every write answers 503 in its dialect's shape; reading still works."""
    registration = http.post("/auth/users/", json={"username": unique(), "password": PASSWORD})
    assert registration.status_code == 503, registration.text
    assert set(registration.json()) == {"detail"}
    credentials = {"username": account.username, "password": PASSWORD}
    login = http.post("/auth/token/login/", json=credentials)
    assert login.status_code == 503, login.text
    assert set(login.json()) == {"detail"}
    envelope = http.post("/api/v1/login/", json=credentials)
    assert envelope.status_code == 503, envelope.text
    assert envelope.json()["result"]["status"] == 503
    logout = http.post("/auth/token/logout/", headers=account.auth)
    assert logout.status_code == 503, logout.text
    assert set(logout.json()) == {"detail"}
    assert http.get("/auth/users/me/", headers=account.auth).status_code == 200


def test_a_full_disk_answers_writes_with_503_then_recovers(tmp_path: Path) -> None:
    with _small_disk(tmp_path / "disk") as disk, module_server(disk) as server:
        account = server.user()
        filler = _fill(disk)
        _assert_writes_unavailable(server.http, account)
        filler.unlink()
        again = {"username": unique(), "password": PASSWORD}
        assert server.http.post("/auth/users/", json=again).status_code == 201


def test_a_read_only_database_answers_writes_with_503(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    with module_server(tmp_path / "db") as server:
        account = server.user()
    with (
        _read_only(Path(server.settings.database_url.removeprefix("sqlite:///"))),
        live_server(server.settings) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        _assert_writes_unavailable(http, account)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_serve_and_migrate_refuse_a_read_only_database(
    tmp_path: Path, sqlite_template: Path, command: str
) -> None:
    path = tmp_path / "authgate.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")  # as a database that has served
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env |= {"AUTHGATE_DATABASE_URL": f"sqlite:///{path}", "AUTHGATE_SECRET_KEY": TEST_SECRET}
    args = ["--port", str(free_port())] if command == "serve" else []
    with _read_only(path):
        proc = subprocess.Popen(
            [sys.executable, "-m", "authgate", command, *args],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"`authgate {command}` ran on a read-only database")
    assert proc.returncode != 0, out
    assert "Traceback" not in out + err, err
    errors = [line for line in err.splitlines() if "Error" in line or "error" in line]
    assert len(errors) == 1, err
    assert "readonly" in errors[0] or "read-only" in errors[0], err
