"""A confirmation link works exactly once under concurrency (issue 11, item 14): the same
password-reset, username-reset or activation link used 6 times at the same moment over HTTP
succeeds once, on SQLite and PostgreSQL, and the one success is what is stored."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from authgate.core.models import NewUser, User
from authgate.settings import Settings
from authgate.store import open_store
from tests.security.helpers import NO_THROTTLE, stored_user, unique
from tests.support import Api, Mailbox, link_parts

USES = 6
# The racing requests overlap while they hash: at the real cost, as in production.
pytestmark = pytest.mark.production_argon2
INVALID_FOR_USER = {"token": ["Invalid token for given user."]}
STALE = {"detail": "Stale token for given user."}


def _all_at_once(base_url: str, path: str, bodies: list[dict[str, str]]) -> list[httpx.Response]:
    """POST each body to `path` from its own thread and connection, released together."""
    start = threading.Barrier(len(bodies))

    def post(body: dict[str, str]) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            start.wait()
            return client.post(path, json=body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def _server(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], **more: Any
) -> tuple[Api, Settings]:
    overrides: dict[str, Any] = {**NO_THROTTLE, **more}
    return serve(**overrides), make_settings(**overrides)


def _account(api: Api) -> tuple[str, str]:
    name = unique("once")
    email = f"{name}@example.com"
    api.register(name, email=email)
    return name, email


def _mailed_link(api: Api, mail: Mailbox, email: str, path: str) -> tuple[str, str]:
    sent = api.http.post(path, json={"email": email})
    assert sent.status_code == 204, sent.text
    return link_parts(mail.wait_for(email)[-1])


def _outcomes(answers: list[httpx.Response]) -> list[int]:
    assert all(a.status_code < 500 for a in answers), [a.text for a in answers]
    return sorted(a.status_code for a in answers)


def test_one_reset_password_link_used_6_times_at_once_resets_once(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], mail: Mailbox
) -> None:
    api, _ = _server(serve, make_settings)
    name, email = _account(api)
    uid, token = _mailed_link(api, mail, email, "/auth/users/reset_password/")
    passwords = [f"Parallel-Horse-{i}{i}7" for i in range(USES)]
    bodies = [{"uid": uid, "token": token, "new_password": p} for p in passwords]

    answers = _all_at_once(str(api.http.base_url), "/auth/users/reset_password_confirm/", bodies)

    assert _outcomes(answers) == [204] + [400] * (USES - 1)
    assert all(a.json() == INVALID_FOR_USER for a in answers if a.status_code == 400)
    (winner,) = [p for p, a in zip(passwords, answers, strict=True) if a.status_code == 204]
    assert api.login(name, winner)
    for loser in set(passwords) - {winner}:
        refused = api.http.post("/auth/token/login/", json={"username": name, "password": loser})
        assert refused.status_code == 400


def test_one_reset_username_link_used_6_times_at_once_renames_once(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], mail: Mailbox
) -> None:
    api, settings = _server(serve, make_settings)
    name, email = _account(api)
    uid, token = _mailed_link(api, mail, email, "/auth/users/reset_username/")
    names = [unique("renamed") for _ in range(USES)]
    bodies = [{"uid": uid, "token": token, "new_username": n} for n in names]

    answers = _all_at_once(str(api.http.base_url), "/auth/users/reset_username_confirm/", bodies)

    assert _outcomes(answers) == [204] + [400] * (USES - 1)
    (winner,) = [n for n, a in zip(names, answers, strict=True) if a.status_code == 204]
    stored: list[User | None] = [stored_user(settings, n) for n in [name, *names]]
    assert [u.username for u in stored if u is not None] == [winner]


def test_one_activation_link_used_6_times_at_once_activates_once(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], mail: Mailbox
) -> None:
    api, settings = _server(serve, make_settings, send_activation_email=True)
    name, email = _account(api)
    uid, token = link_parts(mail.wait_for(email)[-1])
    bodies = [{"uid": uid, "token": token}] * USES

    answers = _all_at_once(str(api.http.base_url), "/auth/users/activation/", bodies)

    assert _outcomes(answers) == [204] + [403] * (USES - 1)
    assert all(a.json() == STALE for a in answers if a.status_code == 403)
    stored = stored_user(settings, name)
    assert stored is not None
    assert stored.is_active
    assert api.login(name)


def test_the_stores_compare_and_set_lets_one_of_6_simultaneous_writers_win(
    database_url: str,
) -> None:
    """What every link's use rests on (Store.update_user_if), without HTTP in between."""

    async def race() -> list[User | None]:
        store = open_store(database_url, pool_size=USES)
        await store.connect()
        try:
            user = await store.create_user(
                NewUser("cas", "cas", "", "", "old-hash", True, datetime.now(UTC))
            )
            expected = {"password": user.password_hash}
            return await asyncio.gather(
                *(
                    store.update_user_if(user.id, expected, {"password": f"new-hash-{i}"})
                    for i in range(USES)
                )
            )
        finally:
            await store.close()

    results = asyncio.run(race())
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].password_hash.startswith("new-hash-")
