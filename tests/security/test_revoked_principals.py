"""Tokens of a user who is gone, deactivated or whose password changed, of every kind: opaque
tokens, SimpleJWT's access and refresh tokens (/auth/jwt/) and /u/api/'s. SimpleJWT kept
honouring such JWTs (CVE-2024-22513); every one must be refused here, by every dialect, and
the refusal must not revive or mint anything."""

from __future__ import annotations

import time

import pytest

from tests.security.helpers import (
    COOKIE_JWT_INVALID_ACCESS,
    COOKIE_JWT_INVALID_REFRESH,
    DRF_INVALID_TOKEN,
    NEW_PASSWORD,
    PASSWORD,
    SIMPLEJWT_INVALID,
    Account,
    Server,
    answer,
    jwt_version,
    module_server,
    stored_user,
    update_user,
)
from tests.support import link_parts, run_cli

NO_ACCOUNT_FOR_TOKEN = {"detail": "No active account found for the given token."}
ENVELOPE_INVALID = {"result": {"status": 401, "message": "Invalid token."}, "data": {}}
INACTIVE = {"detail": "User inactive or deleted."}
ENVELOPE_INACTIVE = {"result": {"status": 401, "message": "User inactive or deleted."}, "data": {}}


class Tokens:
    """Every kind of token of one account, taken before the event."""

    def __init__(self, server: Server, account: Account) -> None:
        self.opaque = account.token
        self.other_device = server.api.login(account.username)
        pair = server.http.post(
            "/auth/jwt/create/", json={"username": account.username, "password": PASSWORD}
        ).json()
        self.access, self.refresh = pair["access"], pair["refresh"]
        cookie_jwt = server.http.post(
            "/u/api/login/", json={"email": account.email, "password": PASSWORD}
        ).json()
        server.http.cookies.clear()
        self.cookie_jwt_access, self.cookie_jwt_refresh = (
            cookie_jwt["access_token"],
            cookie_jwt["refresh_token"],
        )
        self._warm(server, account)

    def _warm(self, server: Server, account: Account) -> None:
        """Use every token once, so that each verdict is cached before the event: the event
        must drop what the server remembers, not only what it stores."""
        http = server.http
        for token in (self.opaque, self.other_device):
            assert http.get(
                "/auth/users/me/", headers={"Authorization": f"Token {token}"}
            ).is_success
            check = http.post(
                "/api/v1/check_token/",
                json={"username": account.username},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert check.is_success
        for token in (self.access, self.refresh):
            assert http.post("/auth/jwt/verify/", json={"token": token}).is_success
        secure = http.get(
            "/u/api/secure_test/", headers={"Authorization": f"Bearer {self.cookie_jwt_access}"}
        )
        assert secure.is_success


def _assert_all_refused(
    server: Server, account: Account, tokens: Tokens, *, inactive: bool = False
) -> None:
    """Every token refused. `inactive`: the account still exists, deactivated beside the
    server, so its opaque tokens still exist and DRF's words for them are its own."""
    http = server.http
    drf, envelope = (
        (INACTIVE, ENVELOPE_INACTIVE) if inactive else (DRF_INVALID_TOKEN, ENVELOPE_INVALID)
    )
    for token in (tokens.opaque, tokens.other_device):
        me = http.get("/auth/users/me/", headers={"Authorization": f"Token {token}"})
        assert answer(me) == (401, drf)
        check = http.post(
            "/api/v1/check_token/",
            json={"username": account.username},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer(check) == (401, envelope)
    for token in (tokens.access, tokens.refresh):
        verify = http.post("/auth/jwt/verify/", json={"token": token})
        assert answer(verify) == (401, SIMPLEJWT_INVALID)
    refreshed = http.post("/auth/jwt/refresh/", json={"refresh": tokens.refresh})
    assert answer(refreshed) == (401, NO_ACCOUNT_FOR_TOKEN)
    secure = http.get(
        "/u/api/secure_test/", headers={"Authorization": f"Bearer {tokens.cookie_jwt_access}"}
    )
    assert answer(secure) == (401, COOKIE_JWT_INVALID_ACCESS)
    cookie_jwt_refreshed = http.post(
        "/u/api/refresh/", json={"refresh_token": tokens.cookie_jwt_refresh}
    )
    assert answer(cookie_jwt_refreshed) == (400, COOKIE_JWT_INVALID_REFRESH)
    assert "set-cookie" not in cookie_jwt_refreshed.headers


def _delete(server: Server, account: Account) -> None:
    response = server.http.request(
        "DELETE", "/auth/users/me/", json={"current_password": PASSWORD}, headers=account.auth
    )
    assert response.status_code == 204


def _deactivate(server: Server, account: Account) -> None:
    update_user(server.settings, account.username, {"is_active": False})


def _set_password(server: Server, account: Account) -> None:
    response = server.http.post(
        "/auth/users/set_password/",
        json={"new_password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=account.auth,
    )
    assert response.status_code == 204


def _reset_password(server: Server, account: Account) -> None:
    sent = server.http.post("/auth/users/reset_password/", json={"email": account.email})
    assert sent.status_code == 204
    (message,) = server.mailbox.wait_for(account.email)
    uid, token = link_parts(message)
    confirmed = server.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": uid, "token": token, "new_password": NEW_PASSWORD},
    )
    assert confirmed.status_code == 204


def _changepassword_cli(server: Server, account: Account) -> None:
    run_cli(
        server.settings,
        "changepassword",
        account.username,
        stdin=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    time.sleep(server.settings.revocation_poll_seconds * 4)


EVENTS = {
    "deleted": _delete,
    "deactivated": _deactivate,
    "password changed": _set_password,
    "password reset by email": _reset_password,
    "password changed from the command line": _changepassword_cli,
}


@pytest.mark.parametrize("event", list(EVENTS))
def test_every_token_of_the_user_ends(server: Server, event: str) -> None:
    account = server.user("revoked")
    tokens = Tokens(server, account)
    EVENTS[event](server, account)
    inactive = event == "deactivated"
    _assert_all_refused(server, account, tokens, inactive=inactive)
    # Asked twice: the first refusal cached nothing that lets the second through.
    _assert_all_refused(server, account, tokens, inactive=inactive)


@pytest.mark.parametrize("event", ["password changed", "password reset by email"])
def test_new_credentials_work_and_the_old_password_does_not(server: Server, event: str) -> None:
    account = server.user("newpass")
    tokens = Tokens(server, account)
    before = stored_user(server.settings, account.username)
    assert before is not None
    version = jwt_version(server.settings, account.id)
    EVENTS[event](server, account)
    after = stored_user(server.settings, account.username)
    assert after is not None
    assert after.password_hash != before.password_hash
    assert jwt_version(server.settings, account.id) != version
    old = server.http.post(
        "/auth/token/login/", json={"username": account.username, "password": PASSWORD}
    )
    assert answer(old) == (
        400,
        {"non_field_errors": ["Unable to log in with provided credentials."]},
    )
    fresh = server.api.login(account.username, NEW_PASSWORD)
    me = server.http.get("/auth/users/me/", headers={"Authorization": f"Token {fresh}"})
    assert me.status_code == 200
    # The fresh login did not bring the old tokens back.
    _assert_all_refused(server, account, tokens)


def test_a_deleted_users_id_is_not_inherited(server: Server) -> None:
    """Tokens name users by id: one of a deleted user must not pass for whoever comes next."""
    account = server.user("gone")
    tokens = Tokens(server, account)
    _delete(server, account)
    successor = server.user("next")
    assert successor.id != account.id
    _assert_all_refused(server, account, tokens)
    assert stored_user(server.settings, account.username) is None


def test_jwts_end_with_a_password_change_whatever_the_opaque_token_setting(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """CVE-2024-22513 without the opt-in: with AUTHGATE_REVOKE_TOKENS_ON_PASSWORD_CHANGE off,
    opaque tokens survive a password change (as DRF's do), JWTs still do not."""
    with module_server(
        tmp_path_factory.mktemp("keep-opaque"), revoke_tokens_on_password_change=False
    ) as keeping:
        account = keeping.user("keeper")
        tokens = Tokens(keeping, account)
        _set_password(keeping, account)
        me = keeping.http.get("/auth/users/me/", headers=account.auth)
        assert answer(me) == (
            200,
            {"email": account.email, "id": account.id, "username": account.username},
        )
        for token in (tokens.access, tokens.refresh):
            verify = keeping.http.post("/auth/jwt/verify/", json={"token": token})
            assert answer(verify) == (401, SIMPLEJWT_INVALID)
        refreshed = keeping.http.post("/auth/jwt/refresh/", json={"refresh": tokens.refresh})
        assert answer(refreshed) == (401, NO_ACCOUNT_FOR_TOKEN)
        secure = keeping.http.get(
            "/u/api/secure_test/", headers={"Authorization": f"Bearer {tokens.cookie_jwt_access}"}
        )
        assert answer(secure) == (401, COOKIE_JWT_INVALID_ACCESS)
        cookie_jwt = keeping.http.post(
            "/u/api/refresh/", json={"refresh_token": tokens.cookie_jwt_refresh}
        )
        assert answer(cookie_jwt) == (400, COOKIE_JWT_INVALID_REFRESH)
