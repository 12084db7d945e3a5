"""Run the reference Django + DRF + Djoser project from Python (stdlib only).

The reference project (``bench/reference/djoser_ref``) is the speed and
wire-behaviour oracle for authgate. Django and friends are never vendored: they
are pip-installed from ``requirements.txt`` into a scratch virtualenv.

Typical use from a test or benchmark::

    venv_python = ensure_venv(DEFAULT_VENV_DIR)  # may raise ReferenceUnavailableError
    proc = start_server(venv_python, port=port, db_path=tmp / "ref.sqlite3")
    try:
        ...  # talk HTTP to 127.0.0.1:port
    finally:
        stop_server(proc)
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

__all__ = [
    "DEFAULT_VENV_DIR",
    "REFERENCE_DIR",
    "REQUIREMENTS",
    "ReferenceUnavailableError",
    "ensure_venv",
    "find_free_port",
    "migrate",
    "seed",
    "server_log",
    "start_server",
    "stop_server",
]

REFERENCE_DIR = Path(__file__).resolve().parent
REQUIREMENTS = REFERENCE_DIR / "requirements.txt"
MANAGE_PY = REFERENCE_DIR / "manage.py"
# A suggestion only: callers decide where the scratch venv lives.
DEFAULT_VENV_DIR = REFERENCE_DIR.parent.parent / ".cache" / "reference-venv"
STAMP_NAME = ".authgate-reference-stamp"
SETTINGS_MODULE = "djoser_ref.settings"
WSGI_APP = "djoser_ref.wsgi:application"
PROBE_PATH = "/auth/users/me/"

PIP_TIMEOUT_S = 1800.0
MANAGE_TIMEOUT_S = 600.0


class ReferenceUnavailableError(RuntimeError):
    """The reference Djoser environment cannot be built here (e.g. pip failed)."""


# --------------------------------------------------------------------------- venv


def _requirements_hash(requirements: Path) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"|python{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def _venv_python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Serialize venv creation between concurrent processes (e.g. pytest-xdist)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _run_or_unavailable(cmd: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        msg = f"reference Djoser env unavailable: {what} failed: {exc}"
        raise ReferenceUnavailableError(msg) from exc
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip()[-2000:]
        msg = f"reference Djoser env unavailable: {what} exited {done.returncode}:\n{tail}"
        raise ReferenceUnavailableError(msg)


def ensure_venv(venv_dir: Path, *, requirements: Path = REQUIREMENTS) -> Path:
    """Create ``venv_dir`` if needed, install ``requirements`` into it, return its python.

    Idempotent and quick once done: a stamp file in the venv holds the hash of
    the requirements file (and the Python minor version); when it matches,
    nothing is run. Raises ReferenceUnavailableError when the venv cannot be
    created or pip cannot install the requirements.
    """
    venv_dir = venv_dir.resolve()
    python = _venv_python(venv_dir)
    stamp = venv_dir / STAMP_NAME
    want = _requirements_hash(requirements)

    def is_current() -> bool:
        return (
            python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8").strip() == want
        )

    if is_current():
        return python
    with _locked(venv_dir.parent / f"{venv_dir.name}.lock"):
        if is_current():  # someone else finished while we waited
            return python
        if not python.exists():
            _run_or_unavailable(
                [sys.executable, "-m", "venv", "--clear", str(venv_dir)], "creating the venv"
            )
        stamp.unlink(missing_ok=True)
        _run_or_unavailable(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "-r",
                str(requirements),
            ],
            "pip install -r requirements.txt",
        )
        stamp.write_text(want + "\n", encoding="utf-8")
    return python


# --------------------------------------------------------------------- manage.py


def _django_env(db_path: Path, env: Mapping[str, str] | None) -> dict[str, str]:
    full = dict(os.environ)
    # Keep an outer venv (e.g. the project's own .venv) from leaking into the child.
    for var in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP"):
        full.pop(var, None)
    full.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "REFERENCE_DB_PATH": str(db_path.resolve()),
            "PYTHONPATH": str(REFERENCE_DIR),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if env:
        full.update(env)
    return full


def _manage(
    python: Path,
    db_path: Path,
    args: list[str],
    env: Mapping[str, str] | None = None,
) -> str:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(python), str(MANAGE_PY), *args],
        cwd=REFERENCE_DIR,
        env=_django_env(db_path, env),
        capture_output=True,
        text=True,
        timeout=MANAGE_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        msg = (
            f"manage.py {' '.join(args)} exited {done.returncode}:\n"
            f"{(done.stdout + done.stderr).strip()[-4000:]}"
        )
        raise RuntimeError(msg)
    return done.stdout


def migrate(python: Path, db_path: Path, *, env: Mapping[str, str] | None = None) -> None:
    """Apply all migrations to the SQLite database at ``db_path`` (created if missing)."""
    _manage(python, db_path, ["migrate", "--noinput", "--verbosity", "0"], env)


def seed(
    python: Path,
    db_path: Path,
    users: int,
    password: str,
    tokens_out: Path,
    *,
    env: Mapping[str, str] | None = None,
) -> str:
    """Create ``user0..user{users-1}`` plus one token each; token keys go to ``tokens_out``.

    Line I of ``tokens_out`` is userI's token key. Runs migrate first (cheap when
    already applied). Returns the command's one-line summary.
    """
    migrate(python, db_path, env=env)
    out = _manage(
        python,
        db_path,
        [
            "seed_bench",
            "--users",
            str(users),
            "--password",
            password,
            "--tokens-out",
            str(tokens_out.resolve()),
        ],
        env,
    )
    return out.strip()


# ------------------------------------------------------------------------ server


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _answers_http(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", PROBE_PATH)
        conn.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    return True


_LOGS: dict[int, IO[bytes]] = {}


def server_log(proc: subprocess.Popen[Any]) -> str:
    """Return what the server wrote to stdout/stderr so far (for error messages)."""
    log = _LOGS.get(proc.pid)
    if log is None:
        return ""
    log.flush()
    return Path(log.name).read_text(encoding="utf-8", errors="replace")


def start_server(
    python: Path,
    *,
    port: int,
    db_path: Path,
    cpu: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> subprocess.Popen[Any]:
    """Migrate ``db_path``, then serve the reference project with gunicorn.

    One sync worker bound to 127.0.0.1:``port``; pinned with ``taskset -c cpu``
    when ``cpu`` is given. ``env`` adds environment variables (for example
    REFERENCE_EMAIL_PORT or REFERENCE_SEND_ACTIVATION_EMAIL=1). Returns once the
    server answers HTTP (the probe also warms the worker up); raises RuntimeError
    if it exits or does not answer within ``timeout`` seconds.
    """
    if _port_open(port):
        msg = f"port {port} on 127.0.0.1 is already in use"
        raise RuntimeError(msg)
    migrate(python, db_path, env=env)
    cmd = [
        str(python),
        "-m",
        "gunicorn",
        WSGI_APP,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "sync",
        "--chdir",
        str(REFERENCE_DIR),
        "--log-level",
        "warning",
        "--timeout",
        "120",
    ]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu), *cmd]
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
        prefix=f"reference-gunicorn-{port}-", suffix=".log", delete=False
    )
    proc = subprocess.Popen(
        cmd,
        cwd=REFERENCE_DIR,
        env=_django_env(db_path, env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _LOGS[proc.pid] = log
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = server_log(proc)
            stop_server(proc)
            msg = f"reference server exited with {proc.returncode}:\n{text[-4000:]}"
            raise RuntimeError(msg)
        if _port_open(port) and _answers_http(port):
            return proc
        time.sleep(0.1)
    text = server_log(proc)
    stop_server(proc)
    msg = f"reference server did not answer on port {port} within {timeout}s:\n{text[-4000:]}"
    raise RuntimeError(msg)


def stop_server(proc: subprocess.Popen[Any], *, timeout: float = 10.0) -> None:
    """Stop a server from start_server (gunicorn master and its worker). Idempotent."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # own session: pgid == pid
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)
    log = _LOGS.pop(proc.pid, None)
    if log is not None:
        log.close()
        Path(log.name).unlink(missing_ok=True)
