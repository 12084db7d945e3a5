"""Not yet activated vs deactivated by staff (issue 11, item 2), with activation emails on:
activation links and resend_activation serve only an account that awaits activation; a user
deactivated by staff cannot re-activate themselves, neither with a link mailed before the
deactivation nor with one asked for after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from authgate.settings import Settings
from tests.security.helpers import NO_THROTTLE, PASSWORD, answer, stored_user, unique
from tests.support import Api, Mailbox, link_parts, run_cli

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
