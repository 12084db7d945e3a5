"""Issue 11 item 13: a username that looks like an existing one (`асе` in Cyrillic beside
`ace`, `ΑΒΕ` in Greek beside `ABE`, `paypal١` beside `paypal1`) is taken, by its UTS #39
confusable skeleton, on every path that names a user: registration, set_username,
reset_username_confirm, the admin's and the CLI's user creation, and the Django import; and
the database holds it under concurrency. Letters that no confusables table lists but that
look like a Latin one (`ᴀ`, `ɑ`) are outside UTS #39's identifier profile, and refused as
not a username at all."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import argon2
import asyncpg
import pytest
from alembic import command

from authgate.composition import build_core
from authgate.core import Core
from authgate.core.errors import ConflictError, ValidationError
from authgate.core.identity import username_key
from authgate.core.models import NewUser, User
from authgate.django_import.reconcile import KeyOwners, Owner, plan_user
from authgate.django_import.rows import SourceUser
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store import open_store
from authgate.store.migrate import alembic_config, upgrade
from tests.admin.helpers import AdminClient, make_user
from tests.conftest import BACKENDS
from tests.security.helpers import answer
from tests.support import Api, Mailbox, link_parts, run_cli, scratch_postgres

pytestmark = pytest.mark.in_process  # the answers of the views and forms, not the wire

PASSWORD = "Correct-Horse-9"
TAKEN = ["A user with that username already exists."]
INVALID = [
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_"
    " characters."
]
# The owner's name, and a look-alike of it in other letters.
LOOKALIKES = {
    "cyrillic": ("ace", "асе"),
    "cyrillic capitals": ("ace", "АСЕ"),
    "greek capitals": ("ABE", "ΑΒΕ"),
    "arabic-indic digit": ("paypal1", "paypal١"),
}
# Latin letters of phonetics that no confusables table maps to a Latin one.
OUTSIDE_THE_PROFILE = {"latin alpha": "ɑce", "small capital": "ᴀce"}
# The migration before the skeletons came.
BEFORE_SKELETONS = "0008_activation_requested"


def _register(api: Api, username: str) -> tuple[int, object]:
    return answer(api.http.post("/auth/users/", json={"username": username, "password": PASSWORD}))


def _logs_in(api: Api, username: str) -> bool:
    body = {"username": username, "password": PASSWORD}
    return api.http.post("/auth/token/login/", json=body).status_code == 200


@pytest.mark.parametrize("variant", list(LOOKALIKES))
def test_registering_a_lookalike_of_an_existing_username_is_refused_as_taken(
    api: Api, variant: str
) -> None:
    owner, lookalike = LOOKALIKES[variant]
    api.register(owner)
    assert _register(api, owner) == (400, {"username": TAKEN})
    # Exactly the answer of the name itself: nothing tells a look-alike apart.
    assert _register(api, lookalike) == (400, {"username": TAKEN})
    assert not _logs_in(api, lookalike)
    # The refusal is about the other account, not the letters: once nobody is called `ace`,
    # `асе` is a good Russian username.
    gone = api.http.request(
        "DELETE",
        "/auth/users/me/",
        json={"current_password": PASSWORD},
        headers=api.as_user(api.login(owner)),
    )
    assert gone.status_code == 204
    assert _register(api, lookalike)[0] == 201


@pytest.mark.parametrize("variant", list(OUTSIDE_THE_PROFILE))
def test_registering_latin_lookalike_letters_outside_the_identifier_profile_is_refused(
    api: Api, variant: str
) -> None:
    api.register("ace")
    assert _register(api, OUTSIDE_THE_PROFILE[variant]) == (400, {"username": INVALID})


def test_set_username_to_a_lookalike_of_another_user_is_refused_as_taken(api: Api) -> None:
    api.register("ace")
    api.register("mallory")
    headers = api.as_user(api.login("mallory"))
    for new_username in ("ace", "асе", "АСЕ"):
        response = api.http.post(
            "/auth/users/set_username/",
            json={"new_username": new_username, "current_password": PASSWORD},
            headers=headers,
        )
        assert answer(response) == (400, {"new_username": TAKEN})
    assert api.http.get("/auth/users/me/", headers=headers).json()["username"] == "mallory"


def test_reset_username_confirm_to_a_lookalike_of_another_user_is_refused_as_taken(
    api: Api, mail: Mailbox
) -> None:
    api.register("ace")
    api.register("mallory", email="mallory@example.com")
    reset = api.http.post("/auth/users/reset_username/", json={"email": "mallory@example.com"})
    assert reset.status_code == 204
    uid, token = link_parts(mail.wait_for("mallory@example.com")[0])
    response = api.http.post(
        "/auth/users/reset_username_confirm/",
        json={"uid": uid, "token": token, "new_username": "асе"},
    )
    assert answer(response) == (400, {"new_username": TAKEN})
    assert api.login("mallory")


def test_staff_cannot_create_a_lookalike_of_an_existing_user_in_the_admin(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    api, settings = serve(cookie_secure=False), make_settings(cookie_secure=False)
    make_user(settings, "boss", staff=True)
    make_user(settings, "ace")
    admin = AdminClient.of(api)
    admin.login("boss")
    new = "/admin/users/new"
    created = admin.post(
        new,
        new,
        username="асе",
        password="Quite-Long-Pass-77",
        password_retype="Quite-Long-Pass-77",
    )
    assert created.status_code == 400
    assert TAKEN[0] in created.text
    assert not _logs_in(api, "асе")


def test_createsuperuser_refuses_a_lookalike_of_an_existing_user(
    api: Api, make_settings: Callable[..., Settings]
) -> None:
    api.register("ace")
    done = run_cli(
        make_settings(),
        "createsuperuser",
        "--no-input",
        "--username",
        "асе",
        password="Root-Pass-123",
        expect_code=1,
    )
    assert f"Error: username: {TAKEN[0]}" in done.stderr
    assert not _logs_in(api, "асе")


def _source_user(user_id: int, username: str) -> SourceUser:
    return SourceUser(
        id=user_id,
        username=username,
        password="",
        email="",
        first_name="",
        last_name="",
        is_active=True,
        is_staff=False,
        is_superuser=False,
        date_joined=datetime(2020, 1, 1, tzinfo=UTC),
        last_login=None,
    )


def test_the_django_import_skips_a_lookalike_of_a_user_it_holds() -> None:
    owners = KeyOwners()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    first = plan_user(_source_user(1, "ace"), None, owners, now=now, blank_duplicate_emails=False)
    assert first.action == "insert"
    second = plan_user(_source_user(2, "асе"), None, owners, now=now, blank_duplicate_emails=False)
    assert (second.action, second.reason) == ("skip", "username looks like 'ace' (id 1)")
    assert owners.owner("username", username_key("асе")) is None
    assert owners.owner("username", username_key("ace")) == Owner(1, "ace")


def _settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="k" * 40, _env_file=None)


def test_the_database_refuses_a_lookalike_that_raced_past_the_check(database_url: str) -> None:
    """The uniqueness is the database's: a writer that skipped the check (or ran it before a
    concurrent registration committed) still cannot store a look-alike."""

    async def scenario() -> None:
        store = open_store(database_url)
        await store.connect()
        try:
            for name in ("ace", "асе"):
                new = NewUser(name, username_key(name), "", "", "!", True, datetime.now(UTC))
                if name == "ace":
                    await store.create_user(new)
                    continue
                with pytest.raises(ConflictError) as refused:
                    await store.create_user(new)
                assert refused.value.field_name == "username"
        finally:
            await store.close()

    asyncio.run(scenario())


def test_concurrent_registrations_of_lookalikes_make_one_account(database_url: str) -> None:
    names = ["ace", "асе", "АСЕ", "Асе"]

    async def scenario() -> tuple[list[User], list[BaseException]]:
        store = open_store(database_url)
        await store.connect()
        core = build_core(_settings(database_url), store, LogMailer())
        try:
            results = await asyncio.gather(
                *(
                    core.users.register(username=name, email="", password=PASSWORD, by_staff=True)
                    for name in names
                ),
                return_exceptions=True,
            )
        finally:
            await core.close()
            await store.close()
        made = [r for r in results if isinstance(r, User)]
        return made, [r for r in results if not isinstance(r, User)]

    made, refused = asyncio.run(scenario())
    assert len(made) == 1
    assert len(refused) == len(names) - 1
    for error in refused:
        assert isinstance(error, ValidationError)
        assert [m.code for m in error.errors["username"]] == ["username_exists"]


def _legacy_database(backend: str, tmp_path: Path) -> str:
    """A database as it was before skeletons: migrated to BEFORE_SKELETONS, not beyond."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'legacy.sqlite3'}"
        command.upgrade(alembic_config(url), BEFORE_SKELETONS)
        return url
    url = scratch_postgres("test_confusables_legacy")
    command.downgrade(alembic_config(url), BEFORE_SKELETONS)
    return url


def _insert_legacy_users(url: str, names: list[str]) -> None:
    """Users as an older authgate stored them, look-alikes of each other included."""
    password = argon2.PasswordHasher().hash(PASSWORD)
    rows = [(name, username_key(name), password, datetime.now(UTC)) for name in names]
    insert = (
        "INSERT INTO auth_user (username, username_key, password, date_joined)"
        " VALUES ({}, {}, {}, {})"
    )
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            iso = [(n, k, p, d.isoformat()) for n, k, p, d in rows]
            connection.executemany(insert.format("?", "?", "?", "?"), iso)
        return

    async def write() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.executemany(insert.format("$1", "$2", "$3", "$4"), rows)
        finally:
            await connection.close()

    asyncio.run(write())


async def _assert_taken(core: Core, *names: str) -> None:
    for name in names:
        with pytest.raises(ValidationError) as refused:
            await core.users.register(username=name, email="", password=PASSWORD, by_staff=True)
        assert [m.code for m in refused.value.errors["username"]] == ["username_exists"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_users_who_already_looked_alike_keep_their_accounts_through_the_migration(
    backend: str, tmp_path: Path
) -> None:
    url = _legacy_database(backend, tmp_path)
    _insert_legacy_users(url, ["ace", "асе", "paypal1", "paypall"])
    upgrade(url)

    async def scenario() -> None:
        store = open_store(url)
        await store.connect()
        core = build_core(_settings(url), store, LogMailer())
        try:
            for name in ("ace", "асе", "paypal1", "paypall"):
                user = await core.logins.authenticate(login=name, password=PASSWORD)
                assert user.username == name
            # A third look-alike is taken, though only the older of the two holds the skeleton;
            # and still once the holder gives the name up (deleted, renamed).
            await _assert_taken(core, "paypal١", "АСЕ")
            holder = await core.logins.authenticate(login="paypal1", password=PASSWORD)
            await core.users.delete(holder, actor=holder)
            holder = await core.logins.authenticate(login="ace", password=PASSWORD)
            await core.users.set_username(holder, "bob")
            await _assert_taken(core, "paypal١", "АСЕ")
        finally:
            await core.close()
            await store.close()

    asyncio.run(scenario())
