"""`authgate import-django`: users and DRF tokens move out of a Django database intact.

Two kinds of source. Tests marked `reference` build the Django database with the real Django +
DRF + Djoser stack (bench/reference, in its scratch virtualenv): its own hashers, its own token
model, its own migrations. The others write a Django-shaped SQLite file by hand, which is how
custom user models, collisions, crashes and bad options are set up quickly.

Every test imports through the `authgate` command (or `run_import` where a crash must be
injected): the first one and the first of the real Django stack's as a real process, the rest
through its entry point in this process (tests.support.run_cli). Each checks the result
through authgate's HTTP API: old passwords log in, old tokens work on /auth/users/me/.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from bench.reference.env import REFERENCE_DIR
from sqlalchemy import create_engine, text

from authgate.core.identity import username_columns
from authgate.core.passwords import Passwords
from authgate.django_import import ImportOptions, SourceError, parse_column_options, run_import
from authgate.django_import.layout import LayoutError
from authgate.django_import.reconcile import KeyOwners, plan_user
from authgate.django_import.rows import SourceUser, TargetUser
from authgate.settings import Settings
from authgate.store.migrate import sqlalchemy_url
from tests.conftest import POSTGRES_URL
from tests.support import Api, eventually, run_cli

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
JOINED = "2024-03-01 10:20:30.123456"

# --------------------------------------------------------------- a Django-shaped SQLite file

# Django 5.2's DDL for auth_user and authtoken_token (as `manage.py sqlmigrate` prints it).
DJANGO_DDL = """
CREATE TABLE auth_user (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT, password varchar(128) NOT NULL,
    last_login datetime NULL, is_superuser bool NOT NULL, username varchar(150) NOT NULL UNIQUE,
    last_name varchar(150) NOT NULL, email varchar(254) NOT NULL, is_staff bool NOT NULL,
    is_active bool NOT NULL, date_joined datetime NOT NULL, first_name varchar(150) NOT NULL);
CREATE TABLE authtoken_token (
    key varchar(40) NOT NULL PRIMARY KEY, created datetime NOT NULL,
    user_id integer NOT NULL UNIQUE REFERENCES auth_user (id));
"""


def django_pbkdf2(password: str, salt: str = "abcdefghijkl", iterations: int = 1000) -> str:
    """A hash in Django's `pbkdf2_sha256$` format (few iterations: tests stay fast)."""
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(derived).decode()}"


def token_key(name: str) -> str:
    """A 40-hex DRF token key, stable per name."""
    return hashlib.sha1(name.encode()).hexdigest()  # noqa: S324 a test fixture, not security


@dataclass
class FakeDjango:
    """A hand-written Django database: add users, then import it."""

    path: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with sqlite3.connect(self.path) as connection:
            connection.execute(sql, params)

    def add(
        self,
        username: str,
        *,
        password: str = "Old-Pass-123",
        email: str = "",
        staff: bool = False,
        superuser: bool = False,
        active: bool = True,
        token: bool = True,
        user_id: int | None = None,
    ) -> int:
        with sqlite3.connect(self.path) as connection:
            cursor = connection.execute(
                "INSERT INTO auth_user (id, password, last_login, is_superuser, username,"
                " last_name, email, is_staff, is_active, date_joined, first_name)"
                " VALUES (?, ?, NULL, ?, ?, 'Last', ?, ?, ?, ?, 'First')",
                (user_id, hashed(password), superuser, username, email, staff, active, JOINED),
            )
            new_id = int(cursor.lastrowid or 0)
            if token:
                connection.execute(
                    "INSERT INTO authtoken_token (key, created, user_id) VALUES (?, ?, ?)",
                    (token_key(username), "2025-01-02 03:04:05.000006", new_id),
                )
        return new_id


def hashed(password: str) -> str:
    """A plain password hashed as Django would; a hash (or `!...`) kept as given."""
    return password if password.startswith("!") or "$" in password else django_pbkdf2(password)


@pytest.fixture
def django(tmp_path: Path) -> FakeDjango:
    path = tmp_path / "django.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.executescript(DJANGO_DDL)
    return FakeDjango(path)


def import_django(
    settings: Settings, source_url: str, *args: str, expect_code: int = 0, process: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run `authgate import-django` against the settings' database (run_cli's `process`)."""
    return run_cli(
        settings,
        "import-django",
        "--database-url",
        source_url,
        *args,
        expect_code=expect_code,
        process=process,
    )


SNAPSHOT_TABLES = (
    "auth_user",
    "auth_token",
    "revocation",
    "auth_group",
    "auth_permission",
    "auth_user_groups",
    "auth_group_permissions",
    "auth_user_user_permissions",
)
SNAPSHOT_QUERIES = {name: f"SELECT * FROM {name} ORDER BY 1" for name in SNAPSHOT_TABLES}  # noqa: S608


def table_rows(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an import writes (nothing-changed checks)."""
    if not database_url.startswith("sqlite"):
        return asyncio.run(_postgres_rows(database_url))
    engine = create_engine(sqlalchemy_url(database_url))
    with engine.connect() as connection:
        rows = {
            name: [tuple(row) for row in connection.execute(text(query))]
            for name, query in SNAPSHOT_QUERIES.items()
        }
    engine.dispose()
    return rows


async def _postgres_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    connection = await asyncpg.connect(url)
    try:
        return {
            name: [tuple(row) for row in await connection.fetch(query)]
            for name, query in SNAPSHOT_QUERIES.items()
        }
    finally:
        await connection.close()


def held_permissions(database_url: str, username: str) -> set[tuple[str, str]]:
    """(group, permission codename) pairs a user holds through groups, read from authgate."""
    query = (
        "SELECT g.name, p.codename FROM auth_user u"
        " JOIN auth_user_groups ug ON ug.user_id = u.id JOIN auth_group g ON g.id = ug.group_id"
        " JOIN auth_group_permissions gp ON gp.group_id = g.id"
        " JOIN auth_permission p ON p.id = gp.permission_id WHERE u.username = :username"
    )
    if not database_url.startswith("sqlite"):
        return asyncio.run(
            _postgres_pairs(database_url, query.replace(":username", "$1"), username)
        )
    engine = create_engine(sqlalchemy_url(database_url))
    with engine.connect() as connection:
        pairs = {(g, p) for g, p in connection.execute(text(query), {"username": username})}
    engine.dispose()
    return pairs


async def _postgres_pairs(url: str, query: str, username: str) -> set[tuple[str, str]]:
    connection = await asyncpg.connect(url)
    try:
        return {(row[0], row[1]) for row in await connection.fetch(query, username)}
    finally:
        await connection.close()


def flat(output: str) -> str:
    """CLI output with rich's error box and line wrapping taken out."""
    return " ".join(output.replace("│", " ").split())


def me(api: Api, key: str) -> Any:
    return api.http.get("/auth/users/me/", headers={"Authorization": f"Token {key}"})


# ------------------------------------------------------------------ hand-written sources


@pytest.mark.slow
def test_users_and_tokens_arrive_and_work(django: FakeDjango, make_settings, serve) -> None:
    alice = django.add("alice", email="alice@example.com", staff=True, password="Alice-Pass-1")
    django.add("root", superuser=True, staff=True, password="Root-Pass-123")
    settings = make_settings()
    done = import_django(settings, django.url, process=True)
    assert "users: 2 imported, 0 updated, 0 unchanged, 0 skipped" in done.stdout
    assert "tokens: 2 imported, 0 unchanged, 0 skipped" in done.stdout
    api: Api = serve()
    assert me(api, token_key("alice")).json() == {
        "id": alice,
        "username": "alice",
        "email": "alice@example.com",
    }
    assert api.login("alice", "Alice-Pass-1")
    envelope = api.http.post(
        "/api/v1/login/", json={"username": "root", "password": "Root-Pass-123"}
    )
    assert envelope.json()["data"]["role"] == "superuser"
    # The id sequence moved past Django's ids: a new registration gets a fresh one.
    assert api.register("newcomer")["id"] > alice


def test_a_second_run_changes_nothing(django: FakeDjango, make_settings) -> None:
    for name in ("ann", "ben", "cid"):
        django.add(name)
    settings = make_settings()
    import_django(settings, django.url)
    before = table_rows(settings.database_url)
    done = import_django(settings, django.url)
    assert "users: 0 imported, 0 updated, 3 unchanged, 0 skipped" in done.stdout
    assert "tokens: 0 imported, 3 unchanged, 0 skipped" in done.stdout
    assert table_rows(settings.database_url) == before


def test_a_rerun_takes_django_changes_but_keeps_authgate_passwords(
    django: FakeDjango, make_settings, serve
) -> None:
    ann = django.add("ann", password="Ann-Pass-123")
    ben = django.add("ben", password="Ben-Pass-123")
    cid = django.add("cid")
    settings = make_settings()
    import_django(settings, django.url)
    api: Api = serve()
    api.login("ann", "Ann-Pass-123")  # upgrades ann's hash to authgate's argon2id
    for name in ("ben", "cid"):  # their tokens are now in the running server's cache
        assert me(api, token_key(name)).status_code == 200
    django.execute("UPDATE auth_user SET username = 'benjamin', is_staff = 1 WHERE id = ?", (ben,))
    django.execute("UPDATE auth_user SET is_active = 0 WHERE id = ?", (cid,))
    django.execute("UPDATE auth_user SET password = ? WHERE id = ?", (django_pbkdf2("New-1"), ann))
    done = import_django(settings, django.url)
    assert "users: 0 imported, 2 updated, 1 unchanged, 0 skipped" in done.stdout
    assert api.login("benjamin", "Ben-Pass-123")
    # The running server hears of the changes through the revocation feed.
    assert eventually(lambda: me(api, token_key("ben")).json().get("username") == "benjamin")
    assert eventually(lambda: me(api, token_key("cid")).status_code == 401)
    # authgate's own hash is newer than anything Django holds: it stays.
    assert api.login("ann", "Ann-Pass-123")


def test_a_rerun_that_adds_group_links_reaches_cached_records(
    django: FakeDjango, make_settings, serve
) -> None:
    ann = django.add("ann")
    settings = make_settings()
    import_django(settings, django.url)
    api: Api = serve()
    record = f"/user/{ann}/"
    auth = {"Authorization": f"Token {token_key('ann')}"}
    assert api.http.get(record, headers=auth).json()["groups"] == []  # now cached
    django.execute("CREATE TABLE auth_group (id integer PRIMARY KEY, name text)")
    django.execute(
        "CREATE TABLE auth_user_groups (id integer PRIMARY KEY, user_id integer, group_id integer)"
    )
    django.execute("INSERT INTO auth_group VALUES (7, 'editors')")
    django.execute("INSERT INTO auth_user_groups VALUES (1, ?, 7)", (ann,))
    done = import_django(settings, django.url)
    assert "links: 1 imported" in done.stdout
    # A link changes no user row: the import tells the running server through the feed.
    assert eventually(lambda: api.http.get(record, headers=auth).json()["groups"] == [7])


def test_dry_run_writes_nothing(django: FakeDjango, make_settings, tmp_path: Path) -> None:
    django.add("ann")
    django.add("ANN")
    fresh = tmp_path / "never-created.sqlite3"
    done = import_django(
        make_settings(database_url=f"sqlite:///{fresh}"), django.url, "--dry-run", expect_code=3
    )
    assert "Dry run: nothing was written." in done.stdout
    assert "users: 1 would be imported, 0 would be updated, 0 unchanged, 1 skipped" in done.stdout
    assert not fresh.exists()
    settings = make_settings()
    before = table_rows(settings.database_url)
    import_django(settings, django.url, "--dry-run", expect_code=3)
    assert table_rows(settings.database_url) == before


def test_collisions_are_skipped_with_reasons(django: FakeDjango, make_settings, serve) -> None:
    django.add("alice", email="alice@example.com")
    django.add("ALICE")
    django.add("alicia", email="Alice@Example.com")
    django.add("nopass", password="!unusable0123456789")
    django.add("md5user", password="md5$salt$0123456789abcdef0123456789abcdef")
    django.add("x" * 151)
    settings = make_settings()
    done = import_django(settings, django.url, expect_code=3)
    out = done.stdout
    assert "users: 3 imported, 0 updated, 0 unchanged, 3 skipped" in out
    assert "'ALICE': username collides case-insensitively with 'alice' (id 1)" in out
    assert (
        "'alicia': email 'Alice@Example.com' is already used by 'alice@example.com' (id 1)" in out
    )
    assert "username longer than 150 characters" in out
    assert "token of id 2 'ALICE': its user (id 2) was skipped" in out
    assert "unusable password (Django's '!'), kept unusable: 1 user(s): 'nopass'" in out
    assert "password hash format 'md5' is not verified by authgate" in out
    api: Api = serve()
    assert me(api, token_key("ALICE")).status_code == 401
    assert me(api, token_key("nopass")).status_code == 200  # no password, but still logged in
    # With --blank-duplicate-emails, alicia comes in without an email.
    done = import_django(settings, django.url, "--blank-duplicate-emails", expect_code=3)
    assert "users: 1 imported, 0 updated, 3 unchanged, 2 skipped" in done.stdout
    assert me(api, token_key("alicia")).json()["email"] == ""


def test_a_custom_user_model_is_read_through_column_options(
    tmp_path: Path, make_settings, serve
) -> None:
    source = tmp_path / "custom.sqlite3"
    with sqlite3.connect(source) as connection:
        connection.executescript(
            "CREATE TABLE accounts_member (member_id integer PRIMARY KEY, login text, pwd text,"
            " mail text, joined text, staff bool, surname text);"
            "CREATE TABLE authtoken_token (key text PRIMARY KEY, created text, user_id integer);"
            "CREATE TABLE auth_group (id integer PRIMARY KEY, name text);"
            "CREATE TABLE accounts_member_groups (id integer PRIMARY KEY, member_id integer,"
            " group_id integer);"
            "INSERT INTO auth_group VALUES (3, 'crew');"
            "INSERT INTO accounts_member_groups VALUES (1, 41, 3);"
        )
        connection.execute(
            "INSERT INTO accounts_member VALUES (41, 'mia', ?, 'mia@example.com', ?, 1, 'M')",
            (django_pbkdf2("Mia-Pass-123"), JOINED),
        )
        connection.execute(
            "INSERT INTO authtoken_token VALUES (?, '2025-01-01 00:00:00', 41)", (token_key("mia"),)
        )
    settings = make_settings()
    columns = (
        "id=member_id",
        "username=login",
        "password=pwd",
        "email=mail",
        "date_joined=joined",
        "is_staff=staff",
        "last_name=",
        "first_name=",
    )
    args = ["--user-table", "accounts_member"]
    for option in columns:
        args += ["--column", option]
    done = import_django(settings, f"sqlite:///{source}", *args)
    assert "users: 1 imported" in done.stdout
    # Columns the model lacks and that were not named fall back to defaults, and say so.
    assert "column 'is_superuser' is absent from 'accounts_member': default used" in done.stdout
    assert "groups: 1 imported" in done.stdout  # membership read from accounts_member_groups
    assert "links: 1 imported" in done.stdout
    api: Api = serve()
    assert me(api, token_key("mia")).json() == {
        "id": 41,
        "username": "mia",
        "email": "mia@example.com",
    }
    login = api.http.post("/api/v1/login/", json={"username": "mia", "password": "Mia-Pass-123"})
    assert login.json()["data"]["role"] == "staff"


def test_a_crashed_run_is_completed_by_running_again(django: FakeDjango, make_settings) -> None:
    for index in range(5):
        django.add(f"user{index}")
    settings = make_settings()
    options = ImportOptions(source_url=django.url, target_url=settings.database_url, batch_size=2)
    batches: list[int] = []

    def crash_after_two_batches(done: int) -> None:
        batches.append(done)
        if len(batches) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_import(options, now=NOW, on_progress=crash_after_two_batches)
    summary = run_import(options, now=NOW)
    assert (summary.users["unchanged"], summary.users["insert"]) == (4, 1)
    assert (summary.tokens["unchanged"], summary.tokens["insert"]) == (4, 1)


def test_an_id_held_by_another_authgate_user_is_not_merged(
    django: FakeDjango, make_settings, serve
) -> None:
    api: Api = serve()
    local = api.register("local-admin")
    django.add("django-user", user_id=local["id"])
    done = import_django(make_settings(), django.url, expect_code=3)
    assert f"id {local['id']} already belongs to authgate user 'local-admin'" in done.stdout
    assert api.login("local-admin")


def test_expired_tokens_are_skipped_under_a_token_ttl(django: FakeDjango, make_settings) -> None:
    django.add("old")
    settings = make_settings()
    options = ImportOptions(
        source_url=django.url, target_url=settings.database_url, token_ttl_seconds=3600
    )
    summary = run_import(options, now=NOW)
    assert summary.tokens["skip"] == 1
    assert "older than AUTHGATE_TOKEN_TTL_SECONDS" in summary.skipped_tokens[0]


def test_groups_are_counted_as_skipped_where_authgate_has_none(
    django: FakeDjango, make_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    django.add("ann")
    django.execute("CREATE TABLE auth_group (id integer PRIMARY KEY, name text)")
    django.execute("INSERT INTO auth_group VALUES (1, 'editors')")
    monkeypatch.setattr("authgate.django_import.runner.authgate_has_groups", lambda: False)
    options = ImportOptions(source_url=django.url, target_url=make_settings().database_url)
    summary = run_import(options, now=NOW)
    assert summary.not_imported == {"auth_group": 1}
    assert "no groups or permissions yet: auth_group (1 row)" in "\n".join(summary.lines())


def test_an_unmigrated_target_is_refused_not_skipped(django: FakeDjango, tmp_path: Path) -> None:
    django.add("ann")
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    options = ImportOptions(source_url=django.url, target_url=f"sqlite:///{empty}")
    with pytest.raises(SourceError, match="not migrated"):
        run_import(options, now=NOW)


def test_bad_options_and_unreadable_sources_have_clear_exit_codes(
    django: FakeDjango, make_settings, tmp_path: Path
) -> None:
    settings = make_settings()
    done = import_django(settings, django.url, "--column", "nickname=nick", expect_code=2)
    assert "unknown field 'nickname'" in flat(done.stderr)
    done = import_django(settings, "mysql://db/django", expect_code=2)
    assert "unsupported database URL" in flat(done.stderr)
    done = import_django(settings, settings.database_url, expect_code=2)
    assert "names authgate's own database" in flat(done.stderr)
    missing = tmp_path / "missing.sqlite3"
    import_django(settings, f"sqlite:///{missing}", expect_code=1)
    assert not missing.exists()  # read-only: a mistyped path creates nothing
    done = import_django(settings, django.url, "--user-table", "accounts_user", expect_code=1)
    assert "table 'accounts_user' not found" in done.stderr
    done = import_django(settings, django.url, "--column", "email=mail", expect_code=1)
    assert "column 'mail' (field email) not found" in done.stderr


POSTGRES_DJANGO_DDL = """
DROP SCHEMA IF EXISTS django_src CASCADE;
CREATE SCHEMA django_src;
CREATE TABLE django_src.auth_user (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, password varchar(128) NOT NULL,
    last_login timestamptz NULL, is_superuser boolean NOT NULL,
    username varchar(150) NOT NULL UNIQUE, first_name varchar(150) NOT NULL,
    last_name varchar(150) NOT NULL, email varchar(254) NOT NULL, is_staff boolean NOT NULL,
    is_active boolean NOT NULL, date_joined timestamptz NOT NULL);
CREATE TABLE django_src.authtoken_token (
    key varchar(40) NOT NULL PRIMARY KEY, created timestamptz NOT NULL,
    user_id integer NOT NULL UNIQUE REFERENCES django_src.auth_user (id));
INSERT INTO django_src.auth_user VALUES
    (12, '__HASH__', now(), true, 'pgadmin', 'P', 'G', 'pg@example.com', true, true, now());
INSERT INTO django_src.authtoken_token VALUES ('__TOKEN__', now(), 12);
"""


@pytest.mark.postgres
def test_a_postgres_django_database_is_read(make_settings, serve) -> None:
    """Django on PostgreSQL (Django's column types), in a schema of the test database: also
    shows that `--user-table schema.table` works."""
    if not POSTGRES_URL:
        pytest.skip("AUTHGATE_TEST_POSTGRES_URL is not set")
    ddl = POSTGRES_DJANGO_DDL.replace("__HASH__", django_pbkdf2("Pg-Pass-123"))
    ddl = ddl.replace("__TOKEN__", token_key("pgadmin"))

    async def create() -> None:
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            await connection.execute(ddl)
        finally:
            await connection.close()

    asyncio.run(create())
    tables = ("--user-table", "django_src.auth_user", "--token-table", "django_src.authtoken_token")
    done = import_django(make_settings(), POSTGRES_URL, *tables)
    assert "users: 1 imported" in done.stdout
    api: Api = serve()
    assert me(api, token_key("pgadmin")).json()["id"] == 12
    login = api.http.post("/api/v1/login/", json={"username": "pgadmin", "password": "Pg-Pass-123"})
    assert login.json()["data"]["role"] == "superuser"


# ----------------------------------------------------------------------- pure decisions


def source_user(**overrides: Any) -> SourceUser:
    values: dict[str, Any] = {
        "id": 7,
        "username": "ann",
        "password": django_pbkdf2("x"),
        "email": "",
        "first_name": "",
        "last_name": "",
        "is_active": True,
        "is_staff": False,
        "is_superuser": False,
        "date_joined": NOW,
        "last_login": None,
    }
    return SourceUser(**(values | overrides))


def stored(user: SourceUser, **overrides: Any) -> TargetUser:
    values: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "username_key": user.username.casefold(),
        "email": user.email,
        "email_key": user.email.casefold(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "password": user.password,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }
    return TargetUser(**(values | overrides))


def test_a_renamed_user_is_recognised_by_date_joined() -> None:
    user = source_user(username="annette")
    plan = plan_user(
        user, stored(source_user()), KeyOwners(), now=NOW, blank_duplicate_emails=False
    )
    assert plan.action == "update"
    # A new name brings its look-alike skeletons along (core/identity.py username_columns).
    assert plan.values == {"username": "annette", **username_columns("annette")}


def test_a_later_last_login_in_authgate_is_kept() -> None:
    user = source_user(last_login=NOW)
    row = stored(user, last_login=NOW + timedelta(days=1))
    plan = plan_user(user, row, KeyOwners(), now=NOW, blank_duplicate_emails=False)
    assert plan.action == "unchanged"


def test_two_users_of_one_batch_cannot_take_one_key() -> None:
    owners = KeyOwners()
    first = plan_user(
        source_user(id=1, username="Bo"), None, owners, now=NOW, blank_duplicate_emails=False
    )
    second = plan_user(
        source_user(id=2, username="bo"), None, owners, now=NOW, blank_duplicate_emails=False
    )
    assert (first.action, second.action) == ("insert", "skip")


def test_column_options_are_checked() -> None:
    layout = parse_column_options(["username=login", "first_name="], user_table="members")
    assert layout.columns["username"] == "login"
    assert layout.columns["first_name"] is None
    assert layout.explicit == {"username", "first_name"}
    with pytest.raises(LayoutError, match="required"):
        parse_column_options(["password="])
    with pytest.raises(LayoutError, match="FIELD=COLUMN"):
        parse_column_options(["username"])


def _passwords() -> Passwords:
    return Passwords(time_cost=2, memory_cost_kib=19456, parallelism=1, min_length=8, threads=1)


def test_django_bcrypt_hashes_verify_and_are_upgraded() -> None:
    bcrypt = pytest.importorskip("bcrypt")
    salt = bcrypt.gensalt(rounds=4)
    digest = hashlib.sha256(b"Pass-word-1").hexdigest().encode()
    sha256_form = "bcrypt_sha256$" + bcrypt.hashpw(digest, salt).decode()
    plain_form = "bcrypt$" + bcrypt.hashpw(b"Pass-word-1", salt).decode()
    passwords = _passwords()
    try:
        for encoded in (sha256_form, plain_form):
            assert passwords._verify("Pass-word-1", encoded).matches
            assert passwords._verify("Pass-word-1", encoded).needs_rehash
            assert not passwords._verify("wrong", encoded).matches
        assert not passwords._verify("x", "bcrypt_sha256$garbage").matches
    finally:
        passwords.close()


# ---------------------------------------------------- the real Django + DRF + Djoser stack

# Run by the reference project's `manage.py shell`: users as Django makes them, with every
# hasher a Django project may have used, and their DRF tokens. Prints {username: token key}.
DJANGO_SCRIPT = """
import json
from django.contrib.auth.hashers import BCryptPasswordHasher, make_password
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from rest_framework.authtoken.models import Token

with_bcrypt = "{bcrypt}" == "yes"
users = [
    User.objects.create_user("alice", "alice@example.com", "Alice-Old-Pass-1", is_staff=True,
                             first_name="Alice", last_name="Liddell"),
    User.objects.create_superuser("bob", "bob@example.com", "Bob-Old-Pass-1"),
    User.objects.create_user("carol", "carol@example.com"),
    User.objects.create_user("frank", "frank@example.com"),  # no password: unusable
    User.objects.create_user("grace", "grace@example.com", "Grace-Old-Pass-1", is_active=False),
    User.objects.create_user("ALICE", "other-alice@example.com", "Other-Pass-1"),
]
users[2].password = make_password("Carol-Old-Pass-1", hasher="argon2")
users[2].save()
if with_bcrypt:
    dave = User.objects.create_user("dave", "dave@example.com")
    dave.password = make_password("Dave-Old-Pass-1", hasher="bcrypt_sha256")
    dave.save()
    erin = User.objects.create_user("erin", "erin@example.com")
    plain = BCryptPasswordHasher()
    erin.password = plain.encode("Erin-Old-Pass-1", plain.salt())
    erin.save()
    users += [dave, erin]
User.objects.filter(username="alice").update(last_login=timezone.now())
editors = Group.objects.create(name="editors")
editors.user_set.add(users[0])
editors.permissions.add(Permission.objects.get(codename="add_user"))
print(json.dumps({user.username: Token.objects.create(user=user).key for user in users}))
"""


@dataclass(frozen=True)
class RealDjango:
    """A database written by the real stack, and the token key of each of its users."""

    url: str
    tokens: dict[str, str]
    with_bcrypt: bool


def _overlay(directory: Path) -> Path:
    """The password libraries Django's argon2 and bcrypt hashers need, linked from this venv
    into a directory on the reference project's path (its venv has neither, and installing
    into it would change the shared reference stack)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("argon2", "_argon2_cffi_bindings", "bcrypt"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            package = Path(spec.origin).parent
            (directory / name).symlink_to(package, target_is_directory=True)
    return directory


@pytest.fixture(scope="session")
def real_django(
    reference_python: Path, reference_database: Path, tmp_path_factory: pytest.TempPathFactory
) -> RealDjango:
    """The reference project's database (migrated by its own `migrate`: tests/conftest.py
    reference_database) after DJANGO_SCRIPT (built once)."""
    python = reference_python
    workdir = tmp_path_factory.mktemp("real-django")
    database = workdir / "django.sqlite3"
    shutil.copy(reference_database, database)
    overlay = _overlay(workdir / "overlay")
    env = {"PYTHONPATH": f"{REFERENCE_DIR}{os.pathsep}{overlay}"}
    with_bcrypt = (overlay / "bcrypt").exists()
    script = DJANGO_SCRIPT.replace("{bcrypt}", "yes" if with_bcrypt else "no")
    child_env = (
        {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONHOME"}}
        | env
        | {"DJANGO_SETTINGS_MODULE": "djoser_ref.settings", "REFERENCE_DB_PATH": str(database)}
    )
    done = subprocess.run(
        [str(python), str(REFERENCE_DIR / "manage.py"), "shell", "-c", script],
        cwd=REFERENCE_DIR,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    tokens = json.loads(done.stdout.strip().splitlines()[-1])
    return RealDjango(f"sqlite:///{database}", tokens, with_bcrypt)


OLD_PASSWORDS = {
    "alice": "Alice-Old-Pass-1",  # Django's default hasher: PBKDF2-SHA256
    "bob": "Bob-Old-Pass-1",
    "carol": "Carol-Old-Pass-1",  # argon2
}
BCRYPT_PASSWORDS = {"dave": "Dave-Old-Pass-1", "erin": "Erin-Old-Pass-1"}


@pytest.mark.slow
@pytest.mark.reference
def test_real_django_users_log_in_with_old_passwords_and_keep_their_tokens(
    real_django: RealDjango, make_settings, serve
) -> None:
    settings = make_settings()
    done = import_django(settings, real_django.url, expect_code=3, process=True)
    imported = 7 if real_django.with_bcrypt else 5
    assert f"users: {imported} imported, 0 updated, 0 unchanged, 1 skipped" in done.stdout
    assert "'ALICE': username collides case-insensitively with 'alice' (id 1)" in done.stdout
    assert (
        "groups: 1 imported, 0 unchanged, 0 skipped; permissions: 1 imported, 0 unchanged,"
        " 0 skipped; links: 2 imported, 0 unchanged, 0 skipped"
    ) in done.stdout
    assert held_permissions(settings.database_url, "alice") == {("editors", "auth.add_user")}
    api: Api = serve()
    for username, password in OLD_PASSWORDS.items():
        assert api.login(username, password), username
        answer = me(api, real_django.tokens[username])
        assert answer.status_code == 200, username
        assert answer.json()["username"] == username
    # Flags: bob is a superuser, alice staff (who may list every user).
    roles = {
        name: api.http.post("/api/v1/login/", json={"username": name, "password": password}).json()[
            "data"
        ]["role"]
        for name, password in OLD_PASSWORDS.items()
    }
    assert roles == {"alice": "staff", "bob": "superuser", "carol": "no_role"}
    everyone = api.http.get("/auth/users/", headers=api.as_user(real_django.tokens["alice"]))
    assert {user["username"] for user in everyone.json()} >= {"alice", "bob", "frank", "grace"}
    # frank has no usable password but his token still works; grace is inactive.
    assert me(api, real_django.tokens["frank"]).status_code == 200
    bad = api.http.post("/auth/token/login/", json={"username": "frank", "password": "x"})
    assert bad.status_code == 400
    assert me(api, real_django.tokens["grace"]).status_code == 401
    assert me(api, real_django.tokens["ALICE"]).status_code == 401


@pytest.mark.slow
@pytest.mark.reference
def test_real_django_bcrypt_users_log_in(real_django: RealDjango, make_settings, serve) -> None:
    if not real_django.with_bcrypt:
        pytest.skip("the bcrypt package is not installed (authgate needs it for bcrypt hashes)")
    import_django(make_settings(), real_django.url, expect_code=3)
    api: Api = serve()
    for username, password in BCRYPT_PASSWORDS.items():
        assert api.login(username, password), username
        assert me(api, real_django.tokens[username]).status_code == 200


@pytest.mark.slow
@pytest.mark.reference
def test_real_django_import_twice_changes_nothing_even_after_logins(
    real_django: RealDjango, make_settings, serve
) -> None:
    settings = make_settings()
    import_django(settings, real_django.url, expect_code=3)
    before = table_rows(settings.database_url)
    done = import_django(settings, real_django.url, expect_code=3)
    assert " 0 imported, 0 updated," in done.stdout
    assert table_rows(settings.database_url) == before
    api: Api = serve()
    api.login("alice", OLD_PASSWORDS["alice"])  # authgate upgrades the hash, sets last_login
    done = import_django(settings, real_django.url, expect_code=3)
    assert " 0 imported, 0 updated," in done.stdout
    assert api.login("alice", OLD_PASSWORDS["alice"])


@pytest.mark.slow
@pytest.mark.reference
def test_real_django_dry_run_writes_nothing(
    real_django: RealDjango, make_settings, tmp_path: Path
) -> None:
    settings = make_settings()
    before = table_rows(settings.database_url)
    done = import_django(settings, real_django.url, "--dry-run", expect_code=3)
    assert "Dry run: nothing was written." in done.stdout
    assert " would be imported" in done.stdout
    assert table_rows(settings.database_url) == before
