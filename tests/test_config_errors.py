"""Configuration errors are an Error line and a Fix line (issue 13, §2).

Each case runs the `authgate` command in a clean environment and an empty working folder
(`serve` as a real process, the other commands through its entry point in this process), and
checks the documented exit code (docs/configuration-errors.md), that stderr is at most two
lines naming the setting, that there is no traceback and no secret, and that nothing was
created where nothing should be: only `serve` and `migrate` create a database (and only `serve`
the dev secret file).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from pydantic_settings import NoDecode

from authgate.cli import redact
from authgate.settings import Settings, load_settings
from authgate.store.migrate import alembic_config
from tests.conftest import BACKENDS, POSTGRES_URL as TEST_POSTGRES_URL
from tests.support import empty_postgres, free_port, run_apart, run_here

pytestmark = pytest.mark.slow

EXIT_REFUSED, EXIT_DATABASE = 1, 4


def revisions() -> list[str]:
    """The package's migrations, newest first (Alembic's own walk)."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [script.revision for script in scripts.walk_revisions()]


HEAD = revisions()[0]
PASSWORD = secrets.token_urlsafe(18)  # in every PostgreSQL URL here: never printed

# `serve` and `migrate` may create a database; these only use one.
USING = [
    ("users", "list"),
    ("audit", "tail"),
    ("createsuperuser", "--no-input", "--username", "root"),
    ("changepassword", "root"),
    ("tokens", "revoke-all", "root"),
    ("users", "deactivate", "root"),
    ("users", "set-role", "root", "--staff"),
]
CREATING = [("serve", "--port", "0"), ("migrate",)]
SOME = [*CREATING, ("users", "list"), ("audit", "tail")]


def authgate(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`authgate ARGS` with only `env`'s AUTHGATE_* variables, in `cwd`: `serve` as a real
    process, every other command through its entry point in this process (run_here)."""
    changes: dict[str, str | None] = {k: None for k in os.environ if k.startswith("AUTHGATE_")}
    changes["AUTHGATE_SUPERUSER_PASSWORD"] = "Root-Pass-123"  # createsuperuser --no-input
    run = run_apart if "serve" in args else run_here
    return run(args, changes | (env or {}), cwd=cwd)


def assert_told(
    done: subprocess.CompletedProcess[str], code: int, *names: str, lines: int = 2
) -> None:
    """Refused with `code`, in at most `lines` lines naming each of `names`; no traceback and
    no password."""
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    assert "Traceback" not in output, output
    assert 1 <= len(done.stderr.splitlines()) <= lines, done.stderr
    assert done.stderr.startswith("Error: "), done.stderr
    for name in names:
        assert name in done.stderr, done.stderr
    assert PASSWORD not in output


def postgres_url(database: str, *, port: int | None = None) -> str:
    """A URL with a password for `database` beside the test database (or on `port`)."""
    if port is not None:
        return f"postgresql://authgate:{PASSWORD}@127.0.0.1:{port}/authgate"
    if TEST_POSTGRES_URL is None:
        pytest.skip("AUTHGATE_TEST_POSTGRES_URL is not set")
    base, _, _ = TEST_POSTGRES_URL.rpartition("/")
    scheme, _, rest = base.partition("://")
    user, _, host = rest.rpartition("@")
    return f"{scheme}://{user.partition(':')[0] or 'postgres'}:{PASSWORD}@{host}/{database}"


@pytest.fixture
def scratch_database() -> str:
    """The URL, with a password, of an empty PostgreSQL database (tests.support.empty_postgres:
    one of this run's own, emptied)."""
    return postgres_url(empty_postgres("authgate_scratch").rpartition("/")[2])


def _empty_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        path = tmp_path / "db" / "empty.sqlite3"
        path.parent.mkdir()
        sqlite3.connect(path).close()  # a file, no tables
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("scratch_database")
    return url


# ------------------------------------------------------------------------ bad settings


@pytest.mark.parametrize("command", SOME, ids=" ".join)
def test_a_garbage_database_url_is_one_line(command: tuple[str, ...], tmp_path: Path) -> None:
    done = authgate(*command, cwd=tmp_path, env={"AUTHGATE_DATABASE_URL": "garbage"})
    assert_told(done, EXIT_REFUSED, "AUTHGATE_DATABASE_URL", "postgresql://", lines=1)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", SOME, ids=" ".join)
def test_prod_without_a_secret_key_is_one_line(command: tuple[str, ...], tmp_path: Path) -> None:
    env = {"AUTHGATE_ENV": "prod", "AUTHGATE_SMTP_HOST": "mail.example.com"}
    done = authgate(*command, cwd=tmp_path, env=env)
    assert_told(done, EXIT_REFUSED, "AUTHGATE_SECRET_KEY", "token_urlsafe", lines=1)
    assert not list(tmp_path.iterdir())  # no database, no dev secret


def test_several_refused_settings_are_a_line_each(tmp_path: Path) -> None:
    env = {"AUTHGATE_LOG_LEVEL": "loud", "AUTHGATE_ROLES": "[oops"}
    done = authgate("migrate", cwd=tmp_path, env=env)
    assert_told(done, EXIT_REFUSED, "AUTHGATE_LOG_LEVEL", "AUTHGATE_ROLES", lines=3)
    assert not list(tmp_path.iterdir())


def test_roles_written_as_the_settings_table_shows_them_are_taken(tmp_path: Path) -> None:
    env = {
        "AUTHGATE_ROLES": "ADMIN,USER,AUDITOR",
        "AUTHGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'authgate.sqlite3'}",
    }
    done = authgate("migrate", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


LIST_SETTINGS = [
    name
    for name, field in Settings.model_fields.items()
    if str(field.annotation).startswith("tuple")
]


def test_every_list_setting_is_read_by_the_list_parser() -> None:
    assert {"roles", "trusted_proxies", "cors_allowed_origins", "token_keywords"} <= set(
        LIST_SETTINGS
    )
    for name in LIST_SETTINGS:
        # Without NoDecode, pydantic-settings would take JSON only.
        assert NoDecode in Settings.model_fields[name].metadata, name


LIST_VALUES = {
    "roles": ("ADMIN", "USER"),
    "trusted_proxies": ("10.0.0.0/8", "192.168.1.1"),
    "cors_allowed_origins": ("https://a.example.com", "http://localhost:3000"),
    "token_keywords": ("Token", "Bearer"),
    "jwt_auth_header_types": ("Bearer", "JWT"),
}


@pytest.mark.parametrize("name", LIST_SETTINGS)
@pytest.mark.parametrize("written", ["commas", "spaced", "json"])
def test_list_settings_take_commas_and_json(
    name: str, written: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = LIST_VALUES.get(name)
    key_files = name in ("jwt_retired_public_key_files", "jwt_next_public_key_files")
    if key_files:
        # Key files belong to asymmetric JWTs; only the parse is checked here.
        values = (str(tmp_path / "a.pem"), str(tmp_path / "b.pem"))
    assert values is not None, f"add {name} to LIST_VALUES"
    text = {
        "commas": ",".join(values),
        "spaced": " " + " , ".join(values) + " ,",
        "json": "[" + ", ".join(f'"{value}"' for value in values) + "]",
    }[written]
    monkeypatch.setenv(f"AUTHGATE_{name.upper()}", text)
    if key_files:
        monkeypatch.setenv("AUTHGATE_JWT_ALGORITHM", "RS256")
        monkeypatch.setenv("AUTHGATE_JWT_PRIVATE_KEY_FILE", str(tmp_path / "key.pem"))
    got = getattr(load_settings(_env_file=None), name)
    assert tuple(str(item) for item in got) == values


@pytest.mark.parametrize(
    ("name", "text", "rule"),
    [
        ("AUTHGATE_ROLES", '["ADMIN", "USER"', "not a JSON list"),
        ("AUTHGATE_AUTHENTICATION", "djoser=token", "not a JSON object"),
        ("AUTHGATE_AUTHENTICATION", '{"djoser": ["token"]', "not a JSON object"),
    ],
)
def test_a_list_or_object_that_does_not_parse_names_its_setting(
    name: str, text: str, rule: str, tmp_path: Path
) -> None:
    done = authgate("migrate", cwd=tmp_path, env={name: text})
    assert_told(done, EXIT_REFUSED, name, rule, lines=1)
    assert text not in done.stderr


def test_mapping_settings_stay_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHGATE_AUTHENTICATION", '{"djoser": ["token", "jwt"]}')
    assert load_settings(_env_file=None).authentication == {"djoser": ("token", "jwt")}


# ------------------------------------------------------------------- PostgreSQL away


@pytest.mark.parametrize("command", [*CREATING, *USING], ids=" ".join)
def test_an_unreachable_postgresql_is_two_lines(command: tuple[str, ...], tmp_path: Path) -> None:
    port = free_port()  # closed: nothing listens there
    env = {"AUTHGATE_DATABASE_URL": postgres_url("authgate", port=port)}
    done = authgate(*command, cwd=tmp_path, env=env)
    assert_told(done, EXIT_DATABASE, "AUTHGATE_DATABASE_URL", f"127.0.0.1:{port}", "refused")
    assert "Fix: start PostgreSQL" in done.stderr
    assert not list(tmp_path.iterdir())


def test_a_password_in_the_query_is_not_shown_either(tmp_path: Path) -> None:
    url = f"postgresql://authgate@127.0.0.1:{free_port()}/authgate?password={PASSWORD}"
    done = authgate("migrate", cwd=tmp_path, env={"AUTHGATE_DATABASE_URL": url})
    assert_told(done, EXIT_DATABASE, "AUTHGATE_DATABASE_URL")


@pytest.mark.postgres
@pytest.mark.parametrize("command", [*CREATING, ("users", "list")], ids=" ".join)
def test_a_missing_postgresql_database_is_two_lines(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    name = f"authgate_missing_{secrets.token_hex(6)}"
    done = authgate(*command, cwd=tmp_path, env={"AUTHGATE_DATABASE_URL": postgres_url(name)})
    assert_told(done, EXIT_DATABASE, "AUTHGATE_DATABASE_URL", repr(name), "does not exist")
    assert f"createdb -h 127.0.0.1 {name}" in done.stderr
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ SQLite path


@pytest.mark.parametrize("command", CREATING, ids=" ".join)
def test_a_sqlite_directory_that_does_not_exist_is_not_created(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    directory = tmp_path / "no" / "such"
    env = {"AUTHGATE_DATABASE_URL": f"sqlite:///{directory / 'authgate.sqlite3'}"}
    done = authgate(*command, cwd=tmp_path, env=env)
    assert_told(done, EXIT_DATABASE, "AUTHGATE_DATABASE_URL", str(directory), "does not exist")
    assert not list(tmp_path.iterdir())  # neither the directory nor a dev secret


@pytest.fixture
def unwritable_directory(tmp_path: Path) -> Iterator[Path]:
    """A directory this test's commands may read but not write: its mode says so, and for root
    (who writes past any mode) it is a read-only bind mount of itself (skipped without mount
    rights)."""
    directory = tmp_path / "read-only"
    directory.mkdir()
    if os.geteuid() != 0:
        directory.chmod(0o555)
        yield directory
        directory.chmod(0o755)
        return
    _mount("--bind", str(directory), str(directory))
    try:
        _mount("-o", "remount,ro,bind", str(directory))
        yield directory
    finally:
        subprocess.run(["umount", str(directory)], check=False)


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


@pytest.mark.parametrize("command", CREATING, ids=" ".join)
def test_an_unwritable_sqlite_directory_is_two_lines(
    command: tuple[str, ...], unwritable_directory: Path
) -> None:
    directory = unwritable_directory
    env = {"AUTHGATE_DATABASE_URL": f"sqlite:///{directory / 'authgate.sqlite3'}"}
    done = authgate(*command, cwd=directory, env=env)
    assert_told(done, EXIT_DATABASE, "AUTHGATE_DATABASE_URL", str(directory), "not writable")
    assert not list(directory.iterdir())


# ------------------------------------------------- only serve and migrate create a database


@pytest.mark.parametrize("command", USING, ids=" ".join)
def test_commands_outside_the_project_folder_create_nothing(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    """The default database, ./authgate.sqlite3, is not there: said, not created."""
    done = authgate(*command, cwd=tmp_path)
    missing = tmp_path / "authgate.sqlite3"
    assert_told(done, EXIT_DATABASE, "AUTHGATE_DATABASE_URL", str(missing), "authgate migrate")
    assert "there is no database" in done.stderr
    assert not list(tmp_path.iterdir())  # no database, no .authgate-secret


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("command", [("users", "list"), ("audit", "tail")], ids=" ".join)
def test_commands_on_an_empty_database_say_so_and_migrate_nothing(
    command: tuple[str, ...], backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = _empty_database(backend, tmp_path, request)
    done = authgate(*command, cwd=tmp_path, env={"AUTHGATE_DATABASE_URL": url})
    shown = str(tmp_path / "db" / "empty.sqlite3") if backend == "sqlite" else url.split("@")[1]
    assert_told(done, EXIT_DATABASE, "AUTHGATE_DATABASE_URL", shown, "is empty", "migrate")
    assert _revision(url) is None  # still empty
    expected = ["db"] if backend == "sqlite" else []
    assert sorted(path.name for path in tmp_path.iterdir()) == expected


def test_a_database_at_an_older_revision_is_refused_until_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'authgate.sqlite3'}"
    _migrate_to(url, revisions()[1])
    done = authgate("users", "list", cwd=tmp_path, env={"AUTHGATE_DATABASE_URL": url})
    assert_told(done, EXIT_DATABASE, "AUTHGATE_DATABASE_URL", revisions()[1], HEAD)
    assert "Fix: run `authgate migrate`" in done.stderr


def test_a_database_of_a_newer_authgate_is_refused_by_migrate(tmp_path: Path) -> None:
    path = tmp_path / "authgate.sqlite3"
    _migrate_to(f"sqlite:///{path}", HEAD)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_future'")
    connection.close()
    done = authgate("migrate", cwd=tmp_path, env={"AUTHGATE_DATABASE_URL": f"sqlite:///{path}"})
    assert_told(done, EXIT_DATABASE, "9999_future", "does not know")


def test_commands_work_on_a_migrated_database(tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "authgate.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    done = authgate(
        "users", "list", cwd=tmp_path, env={"AUTHGATE_DATABASE_URL": "sqlite:///authgate.sqlite3"}
    )
    assert done.returncode == 0, done.stderr
    assert "No users." in done.stdout
    assert not (tmp_path / ".authgate-secret").exists()  # a key for this run only


# ------------------------------------------------------------------ migrate says what it did


def _migrate_to(url: str, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def _revision(url: str) -> str | None:
    from authgate.store.preflight import revision

    return revision(url, create=False, timeout_seconds=5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrate_says_what_it_did(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'authgate.sqlite3'}"
    else:
        url = request.getfixturevalue("scratch_database")
    env = {"AUTHGATE_DATABASE_URL": url}

    created = authgate("migrate", cwd=tmp_path, env=env)
    assert created.returncode == 0, created.stderr
    assert f"Created the schema at revision {HEAD}" in created.stdout

    again = authgate("migrate", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert "Nothing to do" in again.stdout
    assert f"(revision {HEAD})" in again.stdout

    older = revisions()[1]
    _migrate_to_older(url, older)
    upgraded = authgate("migrate", cwd=tmp_path, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"from revision {older} to {HEAD}" in upgraded.stdout
    assert _revision(url) == HEAD
    for done in (created, again, upgraded):
        assert PASSWORD not in done.stdout + done.stderr
    assert not (tmp_path / ".authgate-secret").exists()  # migrate signs nothing


def _migrate_to_older(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


# ------------------------------------------------------------------ --debug and redaction


def test_debug_shows_the_traceback_with_the_same_exit_code(tmp_path: Path) -> None:
    env = {"AUTHGATE_DATABASE_URL": postgres_url("authgate", port=free_port())}
    done = authgate("--debug", "migrate", cwd=tmp_path, env=env)
    assert done.returncode == EXIT_DATABASE
    assert "Traceback" in done.stderr
    assert done.stderr.rstrip().splitlines()[-1].startswith("Fix: ")
    assert PASSWORD not in done.stdout + done.stderr


def test_serve_under_debug_passes_it_to_its_migration(tmp_path: Path) -> None:
    env = {"AUTHGATE_DATABASE_URL": postgres_url("authgate", port=free_port())}
    done = authgate("--debug", "serve", "--port", "0", cwd=tmp_path, env=env)
    assert done.returncode == EXIT_DATABASE
    assert "Traceback" in done.stderr


def test_unforeseen_errors_mask_passwords_in_urls() -> None:
    text = f"failed: postgresql://u:{PASSWORD}@h:5432/db and redis://h/0?password={PASSWORD}"
    masked = redact(text)
    assert PASSWORD not in masked
    assert "postgresql://u:***@h:5432/db" in masked
    assert "password=***" in masked
