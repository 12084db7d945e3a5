"""prod refuses guessable keys; the Docker image runs prod; dev says loudly that it is dev
(issue 11, items 9 and 10).

prod took `'a' * 32`, `changemechangeme...` and `0123456789...` as its secret key, and the
Docker image ran in dev, where, without an SMTP host, live reset and activation links are
written to stdout. Docker is not available where the tests run: the image's environment is
read from the Dockerfile (as tests/test_packaging.py does) and handed to the command.
The settings are judged before any database is opened, so no database backend is involved,
except by the dev server, which migrates and serves a SQLite file.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from authgate.settings import Settings
from tests.support import free_port, run_apart, run_here
from tests.test_packaging import instruction

MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
GUESSABLE_KEYS = {
    "one-letter-repeated": "a" * 32,
    "changeme-repeated": "changeme" * 6,
    "digits-in-a-row": "0123456789" * 4,
    "a-phrase": "correct-horse-battery-staple-secret-key",
    "a-word-and-a-year": "Authgate-Production-Secret-2024!",
    "keyboard-walk": "qwertyuiopasdfghjklzxcvbnm1234567890",
}


def _command(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`authgate ARGS` with only these AUTHGATE_* variables, in `cwd`: `serve` as a real
    process, other commands through the entry point in this process (run_here)."""
    changes: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AUTHGATE_")}
    changes["AUTHGATE_DATABASE_URL"] = f"sqlite:///{cwd / 'authgate.sqlite3'}"
    run = run_apart if "serve" in args else run_here
    return run(tuple(args), changes | env, cwd=cwd)


# ------------------------------------------------------------------ item 9: guessable keys


@pytest.mark.parametrize("setting", ["AUTHGATE_SECRET_KEY", "AUTHGATE_JWT_SIGNING_KEY"])
@pytest.mark.parametrize("key", GUESSABLE_KEYS.values(), ids=GUESSABLE_KEYS.keys())
def test_prod_refuses_a_guessable_key_and_says_how_to_make_one(
    key: str, setting: str, tmp_path: Path
) -> None:
    env = {
        "AUTHGATE_ENV": "prod",
        "AUTHGATE_SMTP_HOST": "mail.example.com",
        "AUTHGATE_SECRET_KEY": secrets.token_urlsafe(32),
        setting: key,
    }
    done = _command(["migrate"], env, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert setting in done.stderr
    assert MAKE_A_KEY in done.stderr
    assert key not in done.stdout + done.stderr
    assert not (tmp_path / "authgate.sqlite3").exists()  # refused before anything is touched


def test_prod_tells_guessable_keys_from_the_ones_its_message_makes() -> None:
    for key in GUESSABLE_KEYS.values():
        with pytest.raises(ValidationError, match="AUTHGATE_SECRET_KEY is too easy to guess"):
            Settings(_env_file=None, env="prod", secret_key=key, smtp_host="mail.example.com")
    for _ in range(20):
        key = secrets.token_urlsafe(32)  # what MAKE_A_KEY prints
        settings = Settings(
            _env_file=None,
            env="prod",
            secret_key=key,
            jwt_signing_key=secrets.token_urlsafe(32),
            smtp_host="mail.example.com",
        )
        assert settings.secret_key.get_secret_value() == key


# ------------------------------------------------------ item 10: the image runs prod, dev warns


def _image_environment() -> dict[str, str]:
    """Every `ENV name=value` of the Dockerfile (docker itself is not available here)."""
    environment = {}
    for args in instruction("ENV"):
        for word in shlex.split(args):
            name, _, value = word.partition("=")
            environment[name] = value
    return environment


def test_the_docker_image_runs_in_prod_not_dev() -> None:
    environment = _image_environment()
    assert environment.get("AUTHGATE_ENV") == "prod"
    assert "AUTHGATE_SECRET_KEY" not in environment  # a key baked into an image is no secret


def test_the_docker_image_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    """The image's environment, with nothing added by the operator: refused, not dev."""
    env = {k: v for k, v in _image_environment().items() if k.startswith("AUTHGATE_")}
    done = _command(["serve"], env | {"AUTHGATE_DATABASE_URL": "sqlite:///x.sqlite3"}, tmp_path)
    assert done.returncode == 1
    assert "AUTHGATE_SECRET_KEY" in done.stderr
    assert not (tmp_path / ".authgate-secret").exists()  # no dev key generated


@pytest.mark.slow
def test_dev_serve_warns_at_startup_that_it_is_dev_and_emails_go_to_the_log(
    tmp_path: Path,
) -> None:
    """dev still starts on the key it generates (strong enough for prod, too), and says
    loudly what it is."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env = clean | {"AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'authgate.sqlite3'}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "authgate", "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # A watchdog, not a sleep: ends the server if it never says it started.
    watchdog = threading.Timer(120, server.kill)
    watchdog.start()
    seen: list[str] = []
    try:
        assert server.stdout is not None
        for line in server.stdout:
            seen.append(line)
            if "Application startup complete" in line:
                break
    finally:
        watchdog.cancel()
        server.terminate()
        server.wait(timeout=30)
    output = "".join(seen)
    assert "Application startup complete" in output, output  # dev starts with no key given
    generated = (tmp_path / ".authgate-secret").read_text().strip()
    assert Settings(_env_file=None, env="prod", secret_key=generated, smtp_host="m.example")
    # A line of logs.py's format: "<time> WARNING <logger> [<request id>] <message>".
    warnings = [line for line in seen if " WARNING " in line and "AUTHGATE_ENV=dev" in line]
    assert warnings, output
    assert "DEVELOPMENT MODE" in warnings[0]
    assert "emails go to this log" in warnings[0]
