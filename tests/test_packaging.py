"""The Dockerfile and docker-compose.yml agree with the package and with Settings.

Docker is not available where the tests run, so no image is built and no container started.
Instead the files are parsed, checked against what they refer to (pyproject's extras and
script, Settings' field names, the other compose services), and the commands they run are run
here: `authgate --help`, `authgate migrate` under the compose file's environment (its database
swapped for a local SQLite file), the image's CMD parsed by the real command line, and the
health check's URL asked of a live server.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.core import TyperGroup
from typer.main import get_command

from authgate.cli import cli
from authgate.settings import Settings
from tests.conftest import TEST_SECRET
from tests.support import Api

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# What `${NAME:?...}` asks the operator for, as a test supplies it.
OPERATOR_VALUES = {"AUTHGATE_SECRET_KEY": TEST_SECRET, "AUTHGATE_SMTP_HOST": "127.0.0.1"}


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each Dockerfile instruction, continuations joined."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def instruction(name: str) -> list[str]:
    return [arguments for keyword, arguments in dockerfile() if keyword == name]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def interpolate(value: str, supplied: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, from `supplied`."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if name in supplied:
            return supplied[name]
        if operator == ":-":
            return rest
        raise AssertionError(f"compose needs {name}: {rest}")

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", substitute, value)


def authgate_environment() -> dict[str, str]:
    """The authgate service's environment as compose would hand it over."""
    raw = compose()["services"]["authgate"]["environment"]
    return {name: interpolate(str(value), OPERATOR_VALUES) for name, value in raw.items()}


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    return env | extra


# ------------------------------------------------------------------------------ Dockerfile


def test_the_image_installs_the_package_with_its_server_extras() -> None:
    assert instruction("FROM") == ["python:3.11-slim"]
    install = " ".join(instruction("RUN"))
    assert 'pip install ".[postgres,redis]"' in install
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"postgres", "redis"} <= set(extras)
    for copied in instruction("COPY"):
        *sources, _ = shlex.split(copied)
        for source in sources:
            assert (ROOT / source).exists(), source
    assert instruction("USER") == ["authgate"]  # never root at run time


def test_the_image_command_is_authgate_serve_on_every_interface() -> None:
    (command,) = instruction("CMD")
    argv = json.loads(command)  # exec form: no shell between Docker and the server
    assert argv[:2] == ["authgate", "serve"]
    assert PYPROJECT["project"]["scripts"]["authgate"] == "authgate.cli:main"
    group = get_command(cli)
    assert isinstance(group, TyperGroup)
    context = group.make_context("authgate", argv[1:], resilient_parsing=True)
    serve = group.get_command(context, "serve")
    assert serve is not None
    params = serve.make_context("serve", argv[2:], parent=context).params
    assert params["host"] == "0.0.0.0"  # noqa: S104 the container's port is published
    published = compose()["services"]["authgate"]["ports"]
    assert published == [f"{params['port']}:{params['port']}"]
    assert instruction("EXPOSE") == [str(params["port"])]


def test_the_image_default_database_is_a_valid_setting() -> None:
    env = dict(arg.split("=", 1) for arg in instruction("ENV") if arg.startswith("AUTHGATE_"))
    assert Settings(_env_file=None, database_url=env["AUTHGATE_DATABASE_URL"]).database_url == (
        "sqlite:////data/authgate.sqlite3"
    )


def test_the_health_check_asks_an_url_that_answers(api: Api) -> None:
    (check,) = instruction("HEALTHCHECK")
    url = re.search(r"http://127\.0\.0\.1:8000(/\S+?)'", check)
    assert url, check
    assert api.http.get(url.group(1)).status_code == 200


def test_docker_ignores_secrets_databases_and_virtualenvs() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".authgate-secret", "*.sqlite3", ".venv", ".git"} <= set(ignored)


# -------------------------------------------------------------------------- compose file


def test_compose_runs_authgate_beside_postgres_and_redis() -> None:
    services = compose()["services"]
    assert set(services) == {"authgate", "postgres", "redis", "mailpit"}
    authgate = services["authgate"]
    assert authgate["build"] == "."
    assert set(authgate["depends_on"]) == {"postgres", "redis", "mailpit"}
    for name in ("postgres", "redis"):
        assert authgate["depends_on"][name]["condition"] == "service_healthy"
        assert "healthcheck" in services[name]


def test_every_compose_variable_is_a_setting() -> None:
    fields = set(Settings.model_fields)
    for name in authgate_environment():
        assert name.startswith("AUTHGATE_"), name
        assert name.removeprefix("AUTHGATE_").lower() in fields, name


def test_compose_urls_point_at_the_compose_services() -> None:
    env = authgate_environment()
    postgres = compose()["services"]["postgres"]["environment"]
    database = urlsplit(env["AUTHGATE_DATABASE_URL"])
    assert (database.scheme, database.hostname, database.port) == ("postgresql", "postgres", 5432)
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == interpolate(postgres["POSTGRES_PASSWORD"], {})
    assert database.path == "/" + postgres["POSTGRES_DB"]
    redis = urlsplit(env["AUTHGATE_REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)


def test_compose_settings_pass_production_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in authgate_environment().items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.env == "prod"
    assert settings.database_url.startswith("postgresql://")


def test_compose_refuses_to_start_without_the_secret_key() -> None:
    raw = compose()["services"]["authgate"]["environment"]["AUTHGATE_SECRET_KEY"]
    with pytest.raises(AssertionError, match="AUTHGATE_SECRET_KEY"):
        interpolate(raw, {})


# ------------------------------------------------------- the commands, run on this machine


def test_authgate_help_lists_the_commands_the_image_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "authgate", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=clean_environment(),
    )
    for command in ("serve", "migrate", "import-django"):
        assert command in done.stdout


def test_migrate_under_the_compose_environment(tmp_path: Path) -> None:
    database = tmp_path / "authgate.sqlite3"
    env = authgate_environment() | {"AUTHGATE_DATABASE_URL": f"sqlite:///{database}"}
    done = subprocess.run(
        [sys.executable, "-m", "authgate", "migrate"],
        capture_output=True,
        text=True,
        env=clean_environment(**env),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"auth_user", "auth_token", "alembic_version"} <= tables
