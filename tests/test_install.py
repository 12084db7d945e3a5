"""Installing authgate: a bare install migrates without greenlet, the lock file matches
pyproject and is what the Makefile installs, `--version`, the licence, changelog and metadata,
the local services `make test` finds, and the development compose file (pinned images, a mail
catcher, the first admin as docs/installing.md says).

CI also installs the package bare into a clean virtualenv and serves SQLite with it
(`make check-bare`, .ci/bare-install): that needs the network, so it is a CI step, not a test.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import trove_classifiers
from packaging.requirements import Requirement

import authgate
from tests import conftest
from tests.test_packaging import authgate_environment, clean_environment, compose, interpolate

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())
TEST_TOOLS = {"pytest", "mypy", "ruff", "schemathesis", "selenium", "aiosmtpd"}


def run_python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_environment(**env),
        timeout=120,
        check=False,
    )


# ------------------------------------------------------------------- a bare install


def test_sqlite_migrates_without_greenlet(tmp_path: Path) -> None:
    """SQLAlchemy 2.1 no longer brings greenlet; a bare install has none, and `authgate
    migrate` (which `serve` runs first) must still create the SQLite schema."""
    blocked = (
        "import sys; sys.modules['greenlet'] = None\n"  # `import greenlet` now fails
        "sys.argv = ['authgate', 'migrate']\n"
        "from authgate.cli import main; main()\n"
    )
    done = run_python(blocked, tmp_path, AUTHGATE_DATABASE_URL="sqlite:///./authgate.sqlite3")
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(tmp_path / "authgate.sqlite3") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"auth_user", "auth_token", "alembic_version"} <= tables


def test_greenlet_comes_with_the_postgres_extra() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {Requirement(r).name for r in extras["postgres"]} >= {"asyncpg", "greenlet"}
    assert "greenlet" not in {Requirement(r).name for r in PYPROJECT["project"]["dependencies"]}


def test_ci_installs_the_package_bare_and_serves_sqlite() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make check-bare" in ci.split("make install", 1)[1]
    script = (ROOT / ".ci" / "bare-install").read_text()
    assert re.search(r'pip install --quiet --python "\$work/venv/bin/python" "\$root"\n', script)
    assert 'authgate" serve' in script
    assert os.access(ROOT / ".ci" / "bare-install", os.X_OK)


# ---------------------------------------------------------------------- the lock file


def locked_project() -> dict[str, Any]:
    (project,) = [p for p in LOCK["package"] if p["name"] == "authgate"]
    return dict(project)


def requirement_key(requirement: str) -> tuple[str, str, str]:
    parsed = Requirement(requirement)
    marker = str(parsed.marker or "").replace(" ", "")
    return (parsed.name.lower().replace("_", "-"), str(parsed.specifier), marker)


def test_the_lock_matches_pyproject() -> None:
    """Every dependency, extra and dev tool of pyproject is in uv.lock as written (a
    dependency added without `make lock` fails here, as `uv sync --locked` would)."""
    project = PYPROJECT["project"]
    wanted = {requirement_key(r) for r in project["dependencies"]}
    for extra, requirements in project["optional-dependencies"].items():
        wanted |= {
            requirement_key(f"{r};extra=='{extra}'" if ";" not in r else r) for r in requirements
        }
    locked = locked_project()["metadata"]
    have = set()
    for entry in locked["requires-dist"]:
        spec = entry["name"] + ("[" + ",".join(entry["extras"]) + "]" if "extras" in entry else "")
        spec += entry.get("specifier", "")
        if "marker" in entry:
            spec += ";" + entry["marker"].replace('"', "'")
        have.add(requirement_key(spec))
    assert {k[:2] for k in have} == {k[:2] for k in wanted}
    dev = {requirement_key(r)[:2] for r in PYPROJECT["dependency-groups"]["dev"]}
    locked_dev = {
        requirement_key(e["name"] + e.get("specifier", ""))[:2]
        for e in locked["requires-dev"]["dev"]
    }
    assert locked_dev == dev


def test_the_tests_run_on_the_locked_versions() -> None:
    """This environment holds the locked version of every package the lock names."""
    locked: dict[str, set[str]] = {}
    for package in LOCK["package"]:
        locked.setdefault(package["name"], set()).add(package["version"])
    wrong = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"].lower().replace("_", "-")
        if name in locked and distribution.version not in locked[name]:
            wrong[name] = (distribution.version, sorted(locked[name]))
    assert not wrong, f"installed != uv.lock (run make install): {wrong}"


MAKEFILE = (ROOT / "Makefile").read_text()


def makefile_rule(target: str) -> tuple[str, str]:
    """(prerequisites, recipe) of a Makefile rule."""
    match = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n)*)", MAKEFILE, re.MULTILINE)
    assert match, target
    return match.group(1), match.group(2)


def sync_options(target: str) -> str:
    """The options the rule's recipe gives `$(SYNC)` (uv sync --locked ...)."""
    (options,) = re.findall(r"\$\(SYNC\)(.*)", makefile_rule(target)[1])
    return str(options)


def uv() -> str:
    path = ROOT / ".cache" / "uv" / "bin" / "uv"
    found = str(path) if path.exists() else shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed (make fetches it into .cache/uv)")
    return found


def installed_by(options: str) -> set[str]:
    """The packages `uv sync` with these options installs, read from the lock (no network)."""
    kept = [o for o in shlex.split(options) if o not in {"--inexact", "--quiet"}]
    done = subprocess.run(
        [uv(), "export", "--frozen", "--no-hashes", "--no-header", *kept],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    return {line.split("==")[0] for line in done.stdout.splitlines() if "==" in line}


def test_make_syncs_from_the_lock_and_fails_on_a_stale_one() -> None:
    (sync,) = re.findall(r"^SYNC := (.*)$", MAKEFILE, re.MULTILINE)
    assert " sync --locked " in sync
    for stamp in ("$(RUN_STAMP)", "$(TEST_STAMP)"):
        prerequisites, _ = makefile_rule(stamp)
        assert {"pyproject.toml", "uv.lock"} <= set(prerequisites.split())


def test_make_run_installs_what_serving_needs_and_no_test_tool() -> None:
    for target in ("run", "migrate"):
        assert makefile_rule(target)[0].split()[0] == "$(RUN_STAMP)"
    serving = installed_by(sync_options("$(RUN_STAMP)"))
    assert {"starlette", "uvicorn", "sqlalchemy", "asyncpg", "greenlet", "redis"} <= serving
    assert not serving & TEST_TOOLS


def test_make_test_installs_the_test_tools() -> None:
    for target in ("test", "install", "lint", "typecheck"):
        assert makefile_rule(target)[0].split()[0] == "$(TEST_STAMP)"
    assert TEST_TOOLS | {"asyncpg", "redis", "httpx"} <= installed_by(sync_options("$(TEST_STAMP)"))


def test_one_command_refreshes_the_lock() -> None:
    assert makefile_rule("lock")[1].strip() == "$(UV) lock"
    assert makefile_rule("upgrade")[1].strip() == "$(UV) lock --upgrade"


# ------------------------------------------------- version, licence, changelog, metadata


def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "authgate", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_environment(),
        timeout=60,
        check=True,
    )
    version = PYPROJECT["project"]["version"]
    assert done.stdout == f"authgate {version}\n"
    assert metadata.version("authgate") == authgate.__version__ == version
    assert list(tmp_path.iterdir()) == []  # no database, no secret file: it only reads


def test_the_licence_is_bsd_3_clause_of_the_authgate_authors() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert re.search(r"^Copyright \(c\) \d{4}, the authgate authors$", text, re.MULTILINE)
    assert "Neither the name of the copyright holder" in text  # the third clause
    assert PYPROJECT["project"]["license"] == "BSD-3-Clause"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert metadata.metadata("authgate")["License-Expression"] == "BSD-3-Clause"


def test_the_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "[Keep a Changelog](https://keepachangelog.com/" in text
    releases = re.findall(r"^## \[(.+?)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.MULTILINE)
    assert releases[0] == ("Unreleased", "")
    assert releases[1][0] == PYPROJECT["project"]["version"]  # the newest release is this one
    assert releases[1][1], "a release has a date"
    headings = set(re.findall(r"^### (.+)$", text, re.MULTILINE))
    assert headings <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_metadata_names_authors_pythons_and_known_classifiers() -> None:
    project = PYPROJECT["project"]
    assert project["authors"] == [{"name": "the authgate authors"}]
    assert project["requires-python"] == ">=3.11"
    unknown = [c for c in project["classifiers"] if c not in trove_classifiers.classifiers]
    assert not unknown
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]  # PEP 639
    pythons = {c.rsplit(" ", 1)[1] for c in project["classifiers"] if re.search(r"3\.\d+$", c)}
    assert min(pythons, key=lambda v: tuple(map(int, v.split(".")))) == "3.11"
    assert "urls" not in project  # none is known yet: no placeholder may pose as one
    installed = metadata.metadata("authgate")
    assert installed["Requires-Python"] == ">=3.11"
    assert installed["Author"] == "the authgate authors"


# ------------------------------------------------------------ services `make test` finds


@pytest.fixture
def fake_redis() -> Iterator[str]:
    """A loopback listener that answers the first thing it reads with +PONG."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        with listener:
            connection, _ = listener.accept()
            with connection:
                connection.recv(64)
                connection.sendall(b"+PONG\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/3"
    thread.join(timeout=5)


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        return int(listener.getsockname()[1])


def test_a_local_service_that_answers_is_used(
    fake_redis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = conftest.use_local("Redis", "AUTHGATE_TEST_X_URL", fake_redis, conftest._redis_problem)
    assert os.environ["AUTHGATE_TEST_X_URL"] == fake_redis
    assert line == f"Redis: {fake_redis} answered (set AUTHGATE_TEST_X_URL to use another)"
    monkeypatch.delenv("AUTHGATE_TEST_X_URL")


def test_a_local_service_that_is_not_there_is_skipped_saying_why() -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    line = conftest.use_local("Redis", "AUTHGATE_TEST_X_URL", url, conftest._redis_problem)
    assert "AUTHGATE_TEST_X_URL" not in os.environ
    assert line.startswith(f"Redis: not tested: {url} (ConnectionRefusedError")
    assert line.endswith("start it or set AUTHGATE_TEST_X_URL")
    postgres = f"postgresql://postgres@127.0.0.1:{closed_port()}/test"
    assert "Connect call failed" in str(conftest._postgres_problem(postgres))


def test_the_variable_wins_over_the_local_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_TEST_X_URL", "redis://elsewhere:6379/1")

    def probe(url: str) -> str | None:
        pytest.fail(f"{url} probed although the variable is set")

    line = conftest.use_local("Redis", "AUTHGATE_TEST_X_URL", "redis://127.0.0.1:6379/0", probe)
    assert os.environ["AUTHGATE_TEST_X_URL"] == "redis://elsewhere:6379/1"
    assert line == "Redis: AUTHGATE_TEST_X_URL is set, used as given"


def test_the_run_ends_with_the_services_and_the_skip_reasons(tmp_path: Path) -> None:
    (tmp_path / "test_demo.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('n', range(3))\n"
        "def test_three(n):\n    pytest.skip('needs a unicorn')\n\n"
        "def test_one():\n    pytest.skip('needs a dragon')\n\n"
        "def test_passes():\n    assert True\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-rs", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_environment(
            AUTHGATE_TEST_POSTGRES_URL="postgresql://nowhere/x",
            AUTHGATE_TEST_REDIS_URL="redis://nowhere/0",
            # Only tests.conftest's summary is checked: the installed plugins (hypothesis's,
            # schemathesis's, ...) would double the run's imports (3 s of CPU).
            PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        ),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    tail = done.stdout.strip().splitlines()[-6:]
    assert "services and skips" in tail[0]
    assert tail[1:] == [
        "PostgreSQL: AUTHGATE_TEST_POSTGRES_URL is set, used as given",
        "Redis: AUTHGATE_TEST_REDIS_URL is set, used as given",
        "skipped 3: needs a unicorn",
        "skipped 1: needs a dragon",
        tail[-1],
    ]
    assert re.search(r"1 passed, 4 skipped", tail[-1])


# ------------------------------------------------------------- docker compose, for dev

VERSION_TAG = re.compile(r"^[\w./-]+:v?\d+\.\d+[\w.-]*$")  # at least major.minor, not latest


def test_every_compose_image_is_pinned_to_a_version() -> None:
    services = compose()["services"]
    for name, service in services.items():
        image = service.get("image")
        if image is None:
            assert "build" in service, f"{name} has neither an image nor a build"
            continue
        assert VERSION_TAG.match(image), f"{name}: {image!r} is not pinned to a version"
        assert "latest" not in image
    pulled = [s["image"] for s in services.values() if "build" not in s]
    assert len(pulled) == len(services) - 1  # only authgate is built here


def test_compose_runs_a_mail_catcher_that_authgate_mails_to() -> None:
    services = compose()["services"]
    (catcher,) = [
        n for n, s in services.items() if s.get("image", "").startswith("axllent/mailpit:")
    ]
    assert services[catcher]["ports"] == ["127.0.0.1:8025:8025"]  # its web page, local only
    assert catcher in services["authgate"]["depends_on"]
    raw = services["authgate"]["environment"]
    # What authgate gets when the operator sets nothing: Mailpit's SMTP port.
    smtp = {
        name: interpolate(str(raw[name]), {})
        for name in ("AUTHGATE_SMTP_HOST", "AUTHGATE_SMTP_PORT")
    }
    assert smtp == {"AUTHGATE_SMTP_HOST": catcher, "AUTHGATE_SMTP_PORT": "1025"}


def documented_compose_commands() -> list[list[str]]:
    """The `docker compose exec ... authgate authgate ...` commands of docs/installing.md, as
    the argv after the container's `authgate`, and the -e variables they pass."""
    text = (ROOT / "docs" / "installing.md").read_text().replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        words = shlex.split(line) if "docker compose exec" in line else []
        if words and words[0] != "docker":
            words = words[words.index("docker") :]
        if words[:3] == ["docker", "compose", "exec"]:
            commands.append(words[3:])
    return commands


def test_the_first_admin_is_made_in_the_container_as_documented(tmp_path: Path) -> None:
    """The documented commands run against the compose environment (its database swapped for
    a SQLite file): the scripted one creates a superuser."""
    commands = documented_compose_commands()
    assert len(commands) == 2
    database = tmp_path / "authgate.sqlite3"
    env = authgate_environment() | {"AUTHGATE_DATABASE_URL": f"sqlite:///{database}"}
    env["AUTHGATE_SUPERUSER_PASSWORD"] = "Correct-Horse-Battery-9"
    for command in commands:
        passed = [command[i + 1] for i, word in enumerate(command) if word == "-e"]
        service_at = next(i for i, word in enumerate(command) if word == "authgate")
        assert command[service_at : service_at + 2] == ["authgate", "authgate"]
        argv = command[service_at + 2 :]
        assert argv[0] == "createsuperuser"
        if "--no-input" not in argv:
            continue  # interactive: asks for the password at a terminal
        assert passed == ["AUTHGATE_SUPERUSER_PASSWORD"]
        for step in (["migrate"], argv):
            done = subprocess.run(
                [sys.executable, "-m", "authgate", *step],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                env=clean_environment(**env),
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT username, email, is_superuser, is_staff FROM auth_user"
        ).fetchall()
    assert rows == [("admin", "admin@example.com", 1, 1)]
