"""The audit log: each authentication event is written with who, where and how it ended (the
reason of a failure for staff only), never a secret; staff read it at /api/audit/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from authgate.settings import Settings
from tests.support import Api, run, run_cli

pytestmark = pytest.mark.in_process  # the answers of the views, not the wire

PASSWORD = "Correct-Horse-9"  # Api.register's
ROOT_PASSWORD = "Root-Horse-Battery-9"
AGENT = {"User-Agent": "audit-test/1.0"}


def _entries(api: Api, root: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    response = api.http.get("/api/audit/", params=query, headers=root)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def _root(api: Api, settings: Settings) -> dict[str, str]:
    run_cli(settings, "createsuperuser", "--no-input", "--username", "root", password=ROOT_PASSWORD)
    return api.as_user(api.login("root", ROOT_PASSWORD))


def test_logins_logouts_and_password_changes_are_logged(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    api = serve()
    john = api.register("john", email="john@example.com")
    root = _root(api, make_settings())
    wrong = {"username": "john", "password": "Wrong-Horse-1"}
    assert api.http.post("/auth/token/login/", json=wrong, headers=AGENT).status_code == 400
    ghost = {"username": "ghost", "password": "Wrong-Horse-1"}
    assert api.http.post("/auth/token/login/", json=ghost, headers=AGENT).status_code == 400
    token = api.login("john")
    headers = api.as_user(token)
    changed = api.http.post(
        "/auth/users/set_password/",
        json={"current_password": PASSWORD, "new_password": "New-Horse-Pass-7"},
        headers=headers,
    )
    assert changed.status_code == 204
    token = api.login("john", "New-Horse-Pass-7")
    assert api.http.post("/auth/token/logout/", headers=api.as_user(token)).status_code == 204

    mine = _entries(api, root, user_id=john["id"])
    assert [(e["event"], e["outcome"]) for e in reversed(mine)] == [
        ("register", "success"),
        ("login", "failure"),
        ("login", "success"),
        ("password_change", "success"),
        ("login", "success"),
        ("logout", "success"),
    ]
    failure = next(e for e in mine if e["outcome"] == "failure")
    assert failure["reason"] == "wrong_password"
    assert failure["address"] == "127.0.0.1"
    assert failure["user_agent"] == "audit-test/1.0"
    unknown = _entries(api, root, event="login")
    assert any(e["login"] == "ghost" and e["reason"] == "unknown_user" for e in unknown)
    # Never a secret: no password and no token in any entry.
    text = api.http.get("/api/audit/", headers=root).text
    for secret in (PASSWORD, "New-Horse-Pass-7", "Wrong-Horse-1", token):
        assert secret not in text


def test_a_lockout_is_logged_and_the_log_is_for_staff_only(
    serve: Callable[..., Api], make_settings: Callable[..., Settings]
) -> None:
    api = serve(throttle_enabled=False, lockout_free_failures=2, lockout_base_seconds=60)
    api.register("john")
    root = _root(api, make_settings())
    for _ in range(2):
        api.http.post("/auth/token/login/", json={"username": "john", "password": "Nope-1234"})
    assert [e["event"] for e in _entries(api, root, event="lockout")] == ["lockout"]
    john = api.as_user(api.login("root", ROOT_PASSWORD))
    assert api.http.get("/api/audit/").status_code == 401
    plain = api.register("mary")
    assert plain["username"] == "mary"
    mary = api.as_user(api.login("mary"))
    assert api.http.get("/api/audit/", headers=mary).status_code == 403
    assert api.http.get("/api/audit/", headers=john).status_code == 200
    bad = api.http.get("/api/audit/", params={"user_id": "x"}, headers=root)
    assert (bad.status_code, bad.json()) == (400, {"user_id": ["A valid integer is required."]})


def test_old_entries_are_pruned(make_settings: Callable[..., Settings]) -> None:
    from datetime import UTC, datetime, timedelta

    from authgate.core.audit import Audit
    from authgate.core.clock import SystemClock
    from authgate.core.models import AuditEvent, AuditQuery
    from authgate.store import open_store

    async def scenario() -> tuple[int, list[str]]:
        store = open_store(make_settings().database_url)
        await store.connect()
        try:
            now = datetime.now(UTC)
            for event, age in (("login", 500), ("logout", 10)):
                entry = AuditEvent(event, "success", now - timedelta(days=age))
                await store.append_audit(entry)
            pruned = await Audit(store, SystemClock(), retention_days=365).prune()
            kept = [e.event for e in await store.audit_events(AuditQuery())]
            return pruned, kept
        finally:
            await store.close()

    pruned, kept = run(scenario())
    assert pruned == 1
    assert kept == ["logout"]


def test_a_graceful_stop_writes_the_entries_still_pending(
    make_settings: Callable[..., Settings],
) -> None:
    from authgate.core.models import AuditQuery
    from authgate.store import open_store
    from tests.support import live_server

    # A minute's batching: nothing is written before the server stops, unless the stop does it.
    settings = make_settings(audit_flush_seconds=60)
    with live_server(settings) as url:
        Api(url).register("john")

    async def written() -> list[str]:
        store = open_store(settings.database_url)
        await store.connect()
        try:
            return [e.event for e in await store.audit_events(AuditQuery())]
        finally:
            await store.close()

    assert run(written()) == ["register"]
