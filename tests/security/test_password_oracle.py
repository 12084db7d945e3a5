"""Issue 11 item 6: a current-password check is no unlimited password oracle.

With a stolen token, an attacker guessed the owner's password through every endpoint that
checks `current_password` (set_password, set_username, DELETE users/me/, DELETE users/<id>/),
10-20 guesses a second with never a 429. Each such check now counts as a login does: the
per-account limit answers 429 with Retry-After in DRF's shape, the lockout refuses the right
password once the guesses lock the address out, and logins share the same count.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.security.helpers import PASSWORD, answer, unique
from tests.support import Api

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

GUESSES = 12  # over the default 10/minute per account and address, and the 5 free failures


def _check(api: Api, method: str, path: str, body: dict[str, str], token: str) -> httpx.Response:
    return api.http.request(method, path, json=body, headers=api.as_user(token))


ENDPOINTS: dict[str, Callable[[int, str], tuple[str, str, dict[str, str]]]] = {
    "set_password": lambda uid, pw: (
        "POST",
        "/auth/users/set_password/",
        {"current_password": pw, "new_password": "Another-Horse-7"},
    ),
    "set_username": lambda uid, pw: (
        "POST",
        "/auth/users/set_username/",
        {"current_password": pw, "new_username": unique("renamed")},
    ),
    "delete me": lambda uid, pw: ("DELETE", "/auth/users/me/", {"current_password": pw}),
    "delete by id": lambda uid, pw: ("DELETE", f"/auth/users/{uid}/", {"current_password": pw}),
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_guessing_the_current_password_with_a_stolen_token_is_throttled_and_locked(
    serve: Callable[..., Api], endpoint: str
) -> None:
    # set_username also looks its new name up, a probe with a limit of its own (10/hour per
    # account) that would answer first: out of the way here, this is about the password.
    api = serve(throttle_probe_per_account="1000/hour", throttle_probe_per_client="1000/hour")
    name = unique("victim")
    user_id = api.register(name)["id"]
    token = api.login(name)
    answers = [
        _check(api, *ENDPOINTS[endpoint](user_id, f"Guess-{i}-x"), token) for i in range(GUESSES)
    ]
    statuses = [answer(response)[0] for response in answers]
    assert statuses[:5] == [400] * 5  # wrong passwords, answered as Djoser does
    assert 429 in statuses
    throttled = next(r for r in answers if r.status_code == 429)
    assert set(throttled.json()) == {"detail"}
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    # The guesses locked this address out of the account: the right password is refused
    # through the endpoint, and through a login from the same address, alike.
    right = _check(api, *ENDPOINTS[endpoint](user_id, PASSWORD), token)
    assert right.status_code in (400, 429)
    login = api.http.post("/auth/token/login/", json={"username": name, "password": PASSWORD})
    assert login.status_code in (400, 429)


def test_wrong_current_passwords_count_towards_the_login_lockout(
    serve: Callable[..., Api],
) -> None:
    """Five wrong guesses through set_password lock the address out of logins too, though
    the rate limit is far from reached: one count for every way of guessing."""
    api = serve(throttle_login_per_account="100/minute")
    name = unique("victim")
    api.register(name)
    token = api.login(name)
    for i in range(5):
        wrong = _check(
            api, *ENDPOINTS["set_password"](0, f"Guess-{i}-x"), token
        )  # the free failures
        assert wrong.status_code == 400
        assert wrong.json() == {"current_password": ["Invalid password."]}
    login = api.http.post("/auth/token/login/", json={"username": name, "password": PASSWORD})
    assert login.status_code == 400
    right = _check(api, *ENDPOINTS["set_password"](0, PASSWORD), token)
    assert right.status_code == 400
    assert right.json() == {"current_password": ["Invalid password."]}
