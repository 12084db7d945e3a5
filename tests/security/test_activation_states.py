"""Not yet activated vs deactivated by staff (issue 11, item 2), with activation emails on:
activation links and resend_activation serve only an account that awaits activation; a user
deactivated by staff cannot re-activate themselves, neither with a link mailed before the
deactivation nor with one asked for after it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from alembic import command

from authgate.settings import Settings
from authgate.store.migrate import alembic_config
from tests.conftest import TEST_SECRET
from tests.security.helpers import (
    NO_THROTTLE,
    PASSWORD,
    answer,
    stored_user,
    stored_users,
    unique,
)
from tests.support import Api, Mailbox, link_parts, run_cli

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

INVALID_FOR_USER = {"token": ["Invalid token for given user."]}
STALE = {"detail": "Stale token for given user."}
# How long a mail that is not coming is waited for (tests/security/test_enumeration.py's).
NO_MAIL_WAIT = 0.5


@pytest.fixture
def activating(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> tuple[Api, Settings]:
    overrides: dict[str, Any] = {"send_activation_email": True, **NO_THROTTLE}
    return serve(**overrides), make_settings(**overrides)


def _sign_up(api: Api, mail: Mailbox) -> tuple[str, str, tuple[str, str]]:
    """A new account awaiting activation: (username, email, its activation link)."""
    name = unique("act")
    email = f"{name}@example.com"
    api.register(name, email=email)
    return name, email, link_parts(mail.wait_for(email)[-1])


def _activate(api: Api, link: tuple[str, str]) -> tuple[int, object]:
    uid, token = link
    return answer(api.http.post("/auth/users/activation/", json={"uid": uid, "token": token}))


def _resend(api: Api, email: str) -> None:
    sent = api.http.post("/auth/users/resend_activation/", json={"email": email})
    assert sent.status_code == 204, sent.text


def test_a_link_from_before_a_staff_deactivation_does_not_reactivate(
    activating: tuple[Api, Settings], mail: Mailbox
) -> None:
    api, settings = activating
    name, _, link = _sign_up(api, mail)
    assert _activate(api, link) == (204, None)
    run_cli(settings, "users", "deactivate", name)
    before = stored_user(settings, name)
    assert before is not None
    assert not before.is_active

    assert _activate(api, link) == (400, INVALID_FOR_USER)
    assert stored_user(settings, name) == before
    refused = api.http.post("/auth/token/login/", json={"username": name, "password": PASSWORD})
    assert refused.status_code == 400


def test_resend_activation_mails_nothing_to_a_user_deactivated_by_staff(
    activating: tuple[Api, Settings], mail: Mailbox
) -> None:
    api, settings = activating
    name, email, link = _sign_up(api, mail)
    assert _activate(api, link) == (204, None)
    api.login(name)  # a real user, who has signed in since
    run_cli(settings, "users", "deactivate", name)
    before = stored_user(settings, name)

    _resend(api, email)  # answered as for anyone (204), but no link is mailed
    assert len(mail.wait_for(email, count=2, timeout=NO_MAIL_WAIT)) == 1
    assert stored_user(settings, name) == before


def test_staff_deactivating_an_account_awaiting_activation_ends_its_links(
    activating: tuple[Api, Settings], mail: Mailbox
) -> None:
    api, settings = activating
    name, email, link = _sign_up(api, mail)
    run_cli(settings, "users", "deactivate", name)
    before = stored_user(settings, name)

    assert _activate(api, link) == (400, INVALID_FOR_USER)
    _resend(api, email)
    assert len(mail.wait_for(email, count=2, timeout=NO_MAIL_WAIT)) == 1
    assert stored_user(settings, name) == before


def test_a_reset_link_from_before_a_staff_deactivation_neither_activates_nor_resets(
    activating: tuple[Api, Settings], mail: Mailbox
) -> None:
    """Every link is made alike (Django's token generator): a reset link mailed while the
    account was active must not serve as an activation link once staff deactivated it, nor
    set a password on the deactivated account."""
    api, settings = activating
    name, email, link = _sign_up(api, mail)
    assert _activate(api, link) == (204, None)
    sent = api.http.post("/auth/users/reset_password/", json={"email": email})
    assert sent.status_code == 204
    uid, token = link_parts(mail.wait_for(email, count=2)[-1])
    run_cli(settings, "users", "deactivate", name)
    before = stored_user(settings, name)

    assert _activate(api, (uid, token)) == (400, INVALID_FOR_USER)
    reset = api.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": uid, "token": token, "new_password": "Taken-Back-Horse-8"},
    )
    assert answer(reset) == (400, INVALID_FOR_USER)
    assert stored_user(settings, name) == before


def test_an_account_awaiting_activation_is_still_served(
    activating: tuple[Api, Settings], mail: Mailbox
) -> None:
    """The first state keeps working: a resent link activates, once; the other is stale."""
    api, settings = activating
    name, email, first = _sign_up(api, mail)
    _resend(api, email)
    second = link_parts(mail.wait_for(email, count=2)[-1])
    assert _activate(api, second) == (204, None)
    assert _activate(api, first) == (403, STALE)
    assert _activate(api, second) == (403, STALE)
    stored = stored_user(settings, name)
    assert stored is not None
    assert stored.is_active
    assert api.login(name)


def test_the_upgrade_tells_awaiting_activation_from_deactivated_by_staff(
    database_url: str,
) -> None:
    """Migration 0008: of the inactive users before it, those who never signed in and were
    never deactivated by staff await activation (since they joined); every other inactive
    user counts as deactivated by staff, whom no link re-activates."""
    config = alembic_config(database_url)
    command.downgrade(config, "0007_username_keys")
    _execute(database_url, _BEFORE_0008)
    command.upgrade(config, "head")

    settings = Settings(database_url=database_url, secret_key=TEST_SECRET, _env_file=None)
    awaiting = {u.username: u.awaits_activation for u in stored_users(settings)}
    assert awaiting == {"waiting": True, "signedin": False, "deactivated": False, "active": False}
    waiting = stored_user(settings, "waiting")
    assert waiting is not None
    assert waiting.activation_requested_at == waiting.date_joined


# Users as they stood before migration 0008: one who never signed in, one who did, one who
# never did but was deactivated by staff (audited), and an active one.
_BEFORE_0008 = [
    "INSERT INTO auth_user (id, username, username_key, email, email_key, password, is_active,"
    " date_joined, last_login) VALUES"
    " (1, 'waiting', 'waiting', '', '', '!', false, '2026-01-02 03:04:05+00:00', NULL),"
    " (2, 'signedin', 'signedin', '', '', '!', false, '2026-01-02 03:04:05+00:00',"
    " '2026-02-03 04:05:06+00:00'),"
    " (3, 'deactivated', 'deactivated', '', '', '!', false, '2026-01-02 03:04:05+00:00', NULL),"
    " (4, 'active', 'active', '', '', '!', true, '2026-01-02 03:04:05+00:00', NULL)",
    "INSERT INTO audit_event (created_at, event, outcome, user_id)"
    " VALUES ('2026-03-04 05:06:07+00:00', 'deactivation', 'success', 3)",
]


def _execute(database_url: str, statements: list[str]) -> None:
    """Run SQL on the database as it is, without authgate's store (which reads the head
    schema)."""
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            for statement in statements:
                connection.execute(statement)
        return

    async def go() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(go())
