"""Issue 11 item 4: the lockout is no lever to lock an account's owner out.

An attacker who knows only a username hammers wrong passwords from their address: that
address is locked out of the account, while the owner, from another address, still logs in
(at worst after the account-wide delay, which is bounded). And a completed password reset
(proof of owning the email) lifts the lockout everywhere, the owner's own address included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from authgate.core.counters import Counters
from authgate.core.lockout import Lockout, LockoutPolicy
from tests.security.helpers import NEW_PASSWORD, PASSWORD, answer, unique
from tests.support import Api, Mailbox, link_parts

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"
# The per-address limits are left as they are by default; the lock is long, so that a
# test outlives nothing by accident; the account-wide delay short, to keep the test quick.
SETTINGS: dict[str, object] = {
    "trusted_proxies": ("127.0.0.1",),
    "lockout_free_failures": 3,
    "lockout_base_seconds": 600,
    "lockout_account_max_delay_seconds": 0.1,
}


def _login(api: Api, username: str, password: str, address: str) -> httpx.Response:
    return api.http.post(
        "/auth/token/login/",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


def _hammer(api: Api, username: str, address: str, times: int = 8) -> list[int]:
    """Wrong passwords from `address`: more than the lockout lets through, fewer than the
    per-address rate limit (10/minute), whose window a reset does not touch."""
    return [_login(api, username, f"Wrong-{i}-x", address).status_code for i in range(times)]


def test_an_attacker_hammering_from_one_address_does_not_lock_out_the_owner(
    serve: Callable[..., Api],
) -> None:
    api = serve(**SETTINGS)
    owner = unique("owner")
    api.register(owner)
    statuses = _hammer(api, owner, ATTACKER)
    assert statuses == [400] * 8
    # The attacker's own address is locked out: even the right password fails from it.
    assert _login(api, owner, PASSWORD, ATTACKER).status_code in (400, 429)
    # The owner, elsewhere, gets in.
    status, body = answer(_login(api, owner, PASSWORD, OWNER))
    assert status == 200, body
    assert body["auth_token"]
    # And the attack does not resume where it stopped: the owner's success does not lift
    # the attacker's lock.
    assert _login(api, owner, PASSWORD, ATTACKER).status_code in (400, 429)


def test_the_jwt_and_cookie_jwt_logins_of_the_owner_pass_an_attack_in_another_dialect(
    serve: Callable[..., Api],
) -> None:
    api = serve(**SETTINGS)
    owner = unique("owner")
    email = f"{owner}@example.com"
    api.register(owner, email=email)
    _hammer(api, owner, ATTACKER)
    jwt = api.http.post(
        "/auth/jwt/create/",
        json={"username": owner, "password": PASSWORD},
        headers={"X-Forwarded-For": OWNER},
    )
    assert jwt.status_code == 200, jwt.text
    cookie_jwt = api.http.post(
        "/u/api/login/",
        json={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": OWNER},
    )
    assert cookie_jwt.status_code == 200, cookie_jwt.text


def test_a_completed_password_reset_lifts_a_lockout_made_from_the_owners_own_address(
    serve: Callable[..., Api], mail: Mailbox
) -> None:
    """Behind one NAT the attacker and the owner share an address: the reset link, which
    proves the owner holds the email, is the way back in."""
    api = serve(**SETTINGS)
    owner = unique("owner")
    email = f"{owner}@example.com"
    api.register(owner, email=email)
    _hammer(api, owner, ATTACKER)
    assert _login(api, owner, PASSWORD, ATTACKER).status_code in (400, 429)
    shared = {"X-Forwarded-For": ATTACKER}
    asked = api.http.post("/auth/users/reset_password/", json={"email": email}, headers=shared)
    assert asked.status_code == 204
    uid, token = link_parts(mail.wait_for(email)[-1])
    confirmed = api.http.post(
        "/auth/users/reset_password_confirm/",
        json={"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        headers=shared,
    )
    assert confirmed.status_code == 204, confirmed.text
    status, body = answer(_login(api, owner, NEW_PASSWORD, ATTACKER))
    assert status == 200, body


def test_the_account_wide_delay_never_exceeds_its_bound_however_many_addresses_fail() -> None:
    """A botnet failing from a thousand addresses slows each attempt at the account, the
    owner's included, by at most the bound, and never refuses the owner's."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async def scenario() -> bool:
        policy = LockoutPolicy(free_failures=5, base_seconds=1, account_max_seconds=5)
        lockout = Lockout(Counters(), policy, sleep=record)
        for address in range(1000):
            for _ in range(3):
                attempt = await lockout.begin("user:1", f"10.0.{address // 256}.{address % 256}")
                if attempt.allowed:
                    await lockout.wait(attempt)
                    await lockout.failed("user:1")
        owner = await lockout.begin("user:1", OWNER)
        await lockout.wait(owner)
        return owner.allowed

    assert asyncio.run(scenario())
    assert max(waits, default=0) == 5
