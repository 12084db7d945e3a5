"""Links mailed for password and username resets and for activation: each works once, for
its own user, unaltered; replayed, tampered or outlived by a password change it is refused
and changes nothing; and no privileged field rides along with a confirmation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    Account,
    Server,
    answer,
    module_server,
    stored_user,
    unique,
)
from tests.support import link_parts

INVALID_FOR_USER = {"token": ["Invalid token for given user."]}


@pytest.fixture(scope="module")
def activating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with module_server(
        tmp_path_factory.mktemp("activation"), send_activation_email=True
    ) as running:
        yield running


def _reset_link(server: Server, account: Account, kind: str = "password") -> tuple[str, str]:
    before = len(server.mailbox.wait_for(account.email, timeout=0))
    sent = server.http.post(f"/auth/users/reset_{kind}/", json={"email": account.email})
    assert sent.status_code == 204
    messages = server.mailbox.wait_for(account.email, count=before + 1)
    return link_parts(messages[-1])


def _confirm(server: Server, uid: str, token: str, password: str) -> tuple[int, object]:
    return answer(
        server.http.post(
            "/auth/users/reset_password_confirm/",
            json={"uid": uid, "token": token, "new_password": password},
        )
    )


def test_a_reset_link_works_once(server: Server) -> None:
    account = server.user("resetonce")
    uid, token = _reset_link(server, account)
    assert _confirm(server, uid, token, NEW_PASSWORD) == (204, None)
    hash_after = stored_user(server.settings, account.username)
    assert _confirm(server, uid, token, "Third-Horse-Pass-3") == (400, INVALID_FOR_USER)
    assert stored_user(server.settings, account.username) == hash_after
    assert server.api.login(account.username, NEW_PASSWORD)


def test_a_reset_link_dies_with_a_password_change(server: Server) -> None:
    account = server.user("resetstale")
    uid, token = _reset_link(server, account)
    changed = server.http.post(
        "/auth/users/set_password/",
        json={"new_password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=account.auth,
    )
    assert changed.status_code == 204
    before = stored_user(server.settings, account.username)
    assert _confirm(server, uid, token, "Third-Horse-Pass-3") == (400, INVALID_FOR_USER)
    assert stored_user(server.settings, account.username) == before


def test_a_reset_link_dies_with_an_email_change(server: Server) -> None:
    """A link mailed to an address the user has since left (perhaps because someone else
    reads it) must not reset the password."""
    account = server.user("resetmoved")
    uid, token = _reset_link(server, account)
    moved = server.http.patch(
        "/auth/users/me/", json={"email": f"moved-{account.email}"}, headers=account.auth
    )
    assert moved.status_code == 200
    before = stored_user(server.settings, account.username)
    assert _confirm(server, uid, token, NEW_PASSWORD) == (400, INVALID_FOR_USER)
    assert stored_user(server.settings, account.username) == before


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"), id="last digit"),
        pytest.param(lambda t: t.split("-")[0] + "-" + "0" * len(t.split("-")[1]), id="zeroed"),
        pytest.param(lambda t: "9" * len(t.split("-")[0]) + "-" + t.split("-")[1], id="timestamp"),
        pytest.param(lambda t: t.split("-")[0] + "-", id="no signature"),
    ],
)
def test_a_tampered_reset_token_is_refused(server: Server, tamper: object) -> None:
    account = server.user("resettamper")
    before = stored_user(server.settings, account.username)
    uid, token = _reset_link(server, account)
    assert callable(tamper)
    assert _confirm(server, uid, tamper(token), NEW_PASSWORD) == (400, INVALID_FOR_USER)
    assert stored_user(server.settings, account.username) == before
    # The genuine token still works afterwards.
    assert _confirm(server, uid, token, NEW_PASSWORD) == (204, None)


def test_a_username_reset_link_works_once(server: Server) -> None:
    account = server.user("renameonce")
    uid, token = _reset_link(server, account, "username")
    first, second = unique("first"), unique("second")
    done = server.http.post(
        "/auth/users/reset_username_confirm/",
        json={"uid": uid, "token": token, "new_username": first},
    )
    assert answer(done) == (204, None)
    again = server.http.post(
        "/auth/users/reset_username_confirm/",
        json={"uid": uid, "token": token, "new_username": second},
    )
    assert answer(again) == (400, INVALID_FOR_USER)
    assert stored_user(server.settings, first) is not None
    assert stored_user(server.settings, second) is None


def test_a_reset_confirmation_carries_no_privileges(server: Server) -> None:
    account = server.user("resetmass")
    uid, token = _reset_link(server, account)
    body = {
        "uid": uid,
        "token": token,
        "new_password": NEW_PASSWORD,
        "is_staff": True,
        "is_superuser": True,
        "role": "ADMIN",
        "username": "hijacked",
        "email": "hijacker@example.com",
    }
    done = server.http.post("/auth/users/reset_password_confirm/", json=body)
    assert answer(done) == (204, None)
    user = stored_user(server.settings, account.username)
    assert user is not None
    assert (user.is_staff, user.is_superuser, user.role, user.email) == (
        False,
        False,
        "USER",
        account.email,
    )
    assert stored_user(server.settings, "hijacked") is None


def test_an_activation_link_works_once_and_grants_nothing(activating: Server) -> None:
    name = unique("activate")
    email = f"{name}@example.com"
    activating.api.register(name, email=email)
    uid, token = link_parts(activating.mailbox.wait_for(email)[0])
    body = {"uid": uid, "token": token, "is_staff": True, "role": "ADMIN"}
    done = activating.http.post("/auth/users/activation/", json=body)
    assert answer(done) == (204, None)
    user = stored_user(activating.settings, name)
    assert user is not None
    assert (user.is_active, user.is_staff, user.role) == (True, False, "USER")
    again = activating.http.post("/auth/users/activation/", json={"uid": uid, "token": token})
    assert answer(again) == (403, {"detail": "Stale token for given user."})
    assert stored_user(activating.settings, name) == user


def test_an_activation_link_of_another_user_is_refused(activating: Server) -> None:
    names = [unique("act"), unique("act")]
    links = []
    for name in names:
        activating.api.register(name, email=f"{name}@example.com")
        links.append(link_parts(activating.mailbox.wait_for(f"{name}@example.com")[0]))
    (_, token_a), (uid_b, _) = links
    swapped = activating.http.post("/auth/users/activation/", json={"uid": uid_b, "token": token_a})
    assert answer(swapped) == (400, INVALID_FOR_USER)
    victim = stored_user(activating.settings, names[1])
    assert victim is not None
    assert victim.is_active is False
