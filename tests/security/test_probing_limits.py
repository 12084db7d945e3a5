"""Issue 11, item 11: enumerating accounts through "is this email or username taken" answers.

A signed-in user who PATCHes or PUTs their email to someone else's, or asks set_username for
someone else's name, learns whether that account exists; so does anyone signing up with a
taken username or sending one to reset_username_confirm. Every such lookup counts against
AUTHGATE_THROTTLE_PROBE_* (per account and per client address): past the limit the answer is
a 429 with Retry-After in DRF's shape, whatever the name. Edits that look nothing up, and
staff's, are not counted.

The server trusts 127.0.0.1 as a proxy, so each request names its client address in
X-Forwarded-For: setup comes from addresses of its own and leaves the attacker's budget alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from authgate.settings import Settings
from tests.support import Api, run_cli

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PASSWORD = "Correct-Horse-9"  # Api.register's
ROOT_PASSWORD = "Root-Horse-Battery-9"
LIMIT = 5
ATTACKER = "203.0.113.7"
_setup_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def _serve(serve: Callable[..., Api], **limits: str) -> Api:
    return serve(
        trusted_proxies=["127.0.0.1/32"],
        lockout_enabled=False,
        throttle_probe_per_client=limits.get("per_client", "1000/hour"),
        throttle_probe_per_account=limits.get("per_account", "1000/hour"),
    )


def _from(address: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {"X-Forwarded-For": address, **(headers or {})}


def _account(api: Api, name: str) -> dict[str, str]:
    """Register `name` (email name@example.com) and log in, from an address of its own; the
    token's Authorization header."""
    setup = _from(next(_setup_addresses))
    body = {"username": name, "password": PASSWORD, "email": f"{name}@example.com"}
    assert api.http.post("/auth/users/", json=body, headers=setup).status_code == 201
    login = {"username": name, "password": PASSWORD}
    response = api.http.post("/auth/token/login/", json=login, headers=setup)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Token {response.json()['auth_token']}"}


def _patch_email(api: Api, auth: dict[str, str], email: str, address: str = ATTACKER) -> Any:
    return api.http.patch("/auth/users/me/", json={"email": email}, headers=_from(address, auth))


def _set_username(api: Api, auth: dict[str, str], name: str, address: str = ATTACKER) -> Any:
    body = {"new_username": name, "current_password": PASSWORD}
    return api.http.post("/auth/users/set_username/", json=body, headers=_from(address, auth))


def _assert_throttled(response: httpx.Response) -> None:
    """A 429 in DRF's shape, with the wait in Retry-After and in the detail."""
    assert response.status_code == 429, response.text
    wait = int(response.headers["retry-after"])
    assert wait >= 1
    assert response.json() == {
        "detail": f"Request was throttled. Expected available in {wait} seconds."
    }


def test_probing_emails_through_profile_patch_and_put_is_throttled_per_account(
    serve: Callable[..., Api],
) -> None:
    api = _serve(serve, per_account=f"{LIMIT}/hour")
    _account(api, "victim")
    attacker = _account(api, "attacker")
    # Each probe from an address of its own: the account's budget holds whatever the address.
    for n in range(LIMIT):
        taken = _patch_email(api, attacker, "victim@example.com", f"192.0.2.{n + 1}")
        assert taken.status_code == 400
        assert taken.json() == {"email": ["User with this Email address already exists."]}
    _assert_throttled(_patch_email(api, attacker, "victim@example.com", "192.0.2.100"))
    # Over the limit a free email answers the same: the 429 tells nothing either.
    _assert_throttled(_patch_email(api, attacker, "nobody@example.com", "192.0.2.101"))
    put = api.http.put(
        "/auth/users/me/", json={"email": "victim@example.com"}, headers=_from(ATTACKER, attacker)
    )
    _assert_throttled(put)
    # Nothing was changed by the refused requests.
    me = api.http.get("/auth/users/me/", headers=_from(ATTACKER, attacker)).json()
    assert me["email"] == "attacker@example.com"


def test_probing_usernames_through_set_username_is_throttled_per_account(
    serve: Callable[..., Api],
) -> None:
    api = _serve(serve, per_account=f"{LIMIT}/hour")
    _account(api, "victim")
    attacker = _account(api, "attacker")
    # Each request counts once, though the dialect and the core both look the name up.
    for n in range(LIMIT):
        taken = _set_username(api, attacker, "victim", f"192.0.2.{n + 1}")
        assert taken.status_code == 400
        assert taken.json() == {"new_username": ["A user with that username already exists."]}
    _assert_throttled(_set_username(api, attacker, "victim"))
    _assert_throttled(_set_username(api, attacker, "freename"))


def test_email_and_username_probes_share_one_budget_per_account(
    serve: Callable[..., Api],
) -> None:
    api = _serve(serve, per_account=f"{LIMIT}/hour")
    _account(api, "victim")
    attacker = _account(api, "attacker")
    answers = [
        _patch_email(api, attacker, "victim@example.com")
        if n % 2
        else _set_username(api, attacker, "victim")
        for n in range(LIMIT)
    ]
    assert [r.status_code for r in answers] == [400] * LIMIT
    _assert_throttled(_patch_email(api, attacker, "victim@example.com"))


def test_probing_from_one_address_with_many_accounts_is_throttled_per_address(
    serve: Callable[..., Api],
) -> None:
    api = _serve(serve, per_client=f"{LIMIT}/hour")
    _account(api, "victim")
    sybils = [_account(api, f"sybil{n}") for n in range(3)]
    for n in range(LIMIT):
        probe = _patch_email if n % 2 else _set_username
        target = "victim@example.com" if n % 2 else "victim"
        assert probe(api, sybils[n % 3], target).status_code == 400
    _assert_throttled(_patch_email(api, sybils[0], "victim@example.com"))
    _assert_throttled(_set_username(api, sybils[1], "victim"))
    # Another address has a budget of its own.
    assert _set_username(api, sybils[2], "victim", "192.0.2.200").status_code == 400


def test_anonymous_probes_through_registration_and_username_reset_are_throttled(
    serve: Callable[..., Api],
) -> None:
    """Signing up with a taken username answers "taken" before registration's own throttle
    counted anything; reset_username_confirm checks the name before the link. Both count."""
    api = _serve(serve, per_client=f"{LIMIT}/hour")
    _account(api, "victim")
    sign_up = {"username": "victim", "password": PASSWORD}
    reset = {"new_username": "victim", "uid": "MQ", "token": "nope"}
    for n in range(LIMIT):
        path, body = (
            ("/auth/users/", sign_up) if n % 2 else ("/auth/users/reset_username_confirm/", reset)
        )
        response = api.http.post(path, json=body, headers=_from(ATTACKER))
        assert response.status_code == 400, response.text
        assert "already exists" in response.text
    _assert_throttled(api.http.post("/auth/users/", json=sign_up, headers=_from(ATTACKER)))
    response = api.http.post(
        "/auth/users/reset_username_confirm/", json=reset, headers=_from(ATTACKER)
    )
    _assert_throttled(response)


def test_edits_that_look_nothing_up_and_staff_edits_are_not_counted(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    api = _serve(serve, per_account="2/hour", per_client="2/hour")
    _account(api, "victim")
    user = _account(api, "user")
    # The same email, or one that differs only where the uniqueness key does not: no lookup.
    for email in ["user@example.com", "user@EXAMPLE.COM", "user@example.com"] * 3:
        assert _patch_email(api, user, email).status_code == 200
    run_cli(
        make_settings(),
        "createsuperuser",
        "--no-input",
        "--username",
        "root",
        password=ROOT_PASSWORD,
    )
    login = {"username": "root", "password": ROOT_PASSWORD}
    root_token = api.http.post("/auth/token/login/", json=login, headers=_from("192.0.2.50"))
    root = {"Authorization": f"Token {root_token.json()['auth_token']}"}
    me = api.http.get("/auth/users/me/", headers=_from(ATTACKER, user)).json()
    for _ in range(6):  # staff may list every account anyway
        response = api.http.patch(
            f"/auth/users/{me['id']}/",
            json={"email": "victim@example.com"},
            headers=_from(ATTACKER, root),
        )
        assert response.status_code == 400, response.text
    # The user's own budget is whole.
    assert _patch_email(api, user, "victim@example.com").status_code == 400
    assert _patch_email(api, user, "new@example.com").status_code == 200
    _assert_throttled(_patch_email(api, user, "victim@example.com"))
