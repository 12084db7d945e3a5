"""`authgate users ...`, `tokens revoke-all` and `audit tail`: one run of each family as a real
process, the others through the command's entry point in this process (run_cli)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import Api, run_cli

REDIS_URL = os.environ.get("AUTHGATE_TEST_REDIS_URL")
PASSWORD = "Correct-Horse-9"


@pytest.mark.slow
def test_users_list_shows_everyone_and_searches(make_settings, serve) -> None:
    settings = make_settings()
    assert run_cli(settings, "users", "list").stdout == "No users.\n"
    api: Api = serve()
    api.register("john", email="john@example.com")
    api.register("anna")
    listed = run_cli(settings, "users", "list", process=True).stdout.splitlines()
    assert listed[0].split() == [
        "ID",
        "USERNAME",
        "EMAIL",
        "ACTIVE",
        "STAFF",
        "SUPERUSER",
        "ROLE",
        "LAST",
        "LOGIN",
    ]
    assert listed[1].split() == [
        "1",
        "john",
        "john@example.com",
        "yes",
        "no",
        "no",
        "USER",
        "never",
    ]
    assert listed[2].split()[:2] == ["2", "anna"]
    found = run_cli(settings, "users", "list", "--search", "EXAMPLE").stdout
    assert "john" in found
    assert "anna" not in found


def test_deactivate_ends_tokens_and_says_so(make_settings, serve) -> None:
    settings = make_settings()
    api: Api = serve()
    api.register("john")
    token = api.login("john")
    done = run_cli(settings, "users", "deactivate", "John")
    assert "deactivated" in done.stdout
    assert api.http.get("/auth/users/me/", headers=api.as_user(token)).status_code == 401
    again = run_cli(settings, "users", "deactivate", "john")
    assert "already deactivated" in again.stdout
    missing = run_cli(settings, "users", "deactivate", "nobody", expect_code=1)
    assert "user 'nobody' does not exist" in missing.stderr


def test_set_role_changes_flags_and_refuses_bad_input(make_settings, serve) -> None:
    settings = make_settings()
    api: Api = serve()
    api.register("john")
    done = run_cli(settings, "users", "set-role", "john", "--role", "ADMIN", "--staff")
    assert done.stdout == "User 'john': role ADMIN, staff yes, superuser no.\n"
    done = run_cli(settings, "users", "set-role", "john", "--superuser", "--no-staff")
    assert done.stdout == "User 'john': role ADMIN, staff no, superuser yes.\n"
    bad = run_cli(settings, "users", "set-role", "john", "--role", "GOD", expect_code=1)
    assert "role" in bad.stderr
    assert "GOD" in bad.stderr
    nothing = run_cli(settings, "users", "set-role", "john", expect_code=2)
    assert "--role" in nothing.stderr
    run_cli(settings, "users", "set-role", "nobody", "--staff", expect_code=1)
    tail = run_cli(settings, "audit", "tail", "--user", "john").stdout
    assert "role_change" in tail
    assert "by the CLI" in tail


@pytest.mark.slow
def test_tokens_revoke_all(make_settings, serve) -> None:
    settings = make_settings()
    api: Api = serve()
    api.register("john")
    tokens = [api.login("john"), api.login("john")]
    assert (
        run_cli(settings, "tokens", "revoke-all", "john", process=True).stdout
        == "Revoked 2 tokens of 'john'.\n"
    )
    for token in tokens:
        assert api.http.get("/auth/users/me/", headers=api.as_user(token)).status_code == 401
    assert (
        run_cli(settings, "tokens", "revoke-all", "john").stdout == "Revoked 0 tokens of 'john'.\n"
    )
    run_cli(settings, "tokens", "revoke-all", "nobody", expect_code=1)


@pytest.mark.slow
def test_audit_tail_prints_the_newest_entries_oldest_first(make_settings, serve) -> None:
    settings = make_settings()
    assert run_cli(settings, "audit", "tail").stdout == "No audit entries.\n"
    # The CLI reads the table from another process, which cannot flush the server's pending
    # batch: the server writes each entry before answering instead.
    api: Api = serve(audit_flush_seconds=0)
    api.register("john")
    api.login("john")
    api.http.post("/auth/token/login/", json={"username": "john", "password": "wrong"})
    lines = run_cli(settings, "audit", "tail", process=True).stdout.splitlines()
    assert [line.split()[2:4] for line in lines] == [
        ["register", "success"],
        ["login", "success"],
        ["login", "failure"],
    ]
    assert "user=john(1)" in lines[1]
    assert "from=127.0.0.1" in lines[1]
    assert "reason='wrong_password'" in lines[2]
    last = run_cli(settings, "audit", "tail", "--limit", "1").stdout.splitlines()
    assert last == lines[-1:]
    run_cli(settings, "audit", "tail", "--user", "nobody", expect_code=1)
    run_cli(settings, "audit", "tail", "--limit", "0", expect_code=2)


def test_unlock_without_redis_says_where_to_clear_instead(make_settings) -> None:
    done = run_cli(make_settings(), "users", "unlock", "john", expect_code=1)
    assert "/admin/lockouts" in done.stderr


@pytest.mark.slow
@pytest.mark.skipif(REDIS_URL is None, reason="AUTHGATE_TEST_REDIS_URL is not set")
def test_unlock_lifts_a_lockout_kept_in_redis(make_settings, serve) -> None:
    settings = make_settings(redis_url=REDIS_URL)
    # Rate limits off: Redis is shared with other tests (and runs), whose logins it counts.
    api: Api = serve(redis_url=REDIS_URL, throttle_enabled=False)
    api.register("john")
    for _ in range(6):
        api.http.post("/auth/token/login/", json={"username": "john", "password": "wrong"})
    locked = api.http.post("/auth/token/login/", json={"username": "john", "password": PASSWORD})
    assert locked.status_code == 400
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env |= {
        "AUTHGATE_DATABASE_URL": settings.database_url,
        "AUTHGATE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "AUTHGATE_REDIS_URL": REDIS_URL or "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "authgate", "users", "unlock", "john"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == "Lockout of 'john' cleared.\n"
    assert api.login("john")
