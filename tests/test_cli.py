"""The `authgate` command: `--help`, `migrate` with `createsuperuser`, and `changepassword`'s
prompts as a real process; the refusals through its entry point in this process (run_cli)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import Api, run_cli


@pytest.mark.slow
def test_help_lists_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "authgate", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "migrate", "createsuperuser", "changepassword"):
        assert command in done.stdout


@pytest.mark.slow
def test_migrate_then_createsuperuser_non_interactively(make_settings, serve) -> None:
    settings = make_settings()
    assert "up to date" in run_cli(settings, "migrate", process=True).stdout
    done = run_cli(
        settings,
        "createsuperuser",
        "--no-input",
        "--username",
        "root",
        "--email",
        "root@example.com",
        password="Root-Pass-123",
        process=True,
    )
    assert "Superuser 'root' created" in done.stdout
    api: Api = serve()
    assert api.login("root", "Root-Pass-123")


def test_createsuperuser_refuses_a_weak_password(make_settings) -> None:
    done = run_cli(
        make_settings(),
        "createsuperuser",
        "--no-input",
        "--username",
        "root",
        password="123",
        expect_code=1,
    )
    assert "This password is too short" in done.stderr


def test_createsuperuser_without_a_password_source_is_a_usage_error(make_settings) -> None:
    done = run_cli(
        make_settings(), "createsuperuser", "--no-input", "--username", "root", expect_code=2
    )
    assert "AUTHGATE_SUPERUSER_PASSWORD" in done.stderr


@pytest.mark.slow
def test_changepassword_asks_twice_and_revokes_tokens(make_settings, serve) -> None:
    api: Api = serve()
    api.register("john")
    token = api.login("john")
    done = run_cli(
        make_settings(),
        "changepassword",
        "john",
        stdin="New-Horse-Pass-1\nNew-Horse-Pass-1\n",
        process=True,
    )
    assert "Password changed for 'john'" in done.stdout
    assert api.http.get("/auth/users/me/", headers=api.as_user(token)).status_code == 401
    assert api.login("john", "New-Horse-Pass-1")


def test_changepassword_of_unknown_user_fails(make_settings) -> None:
    done = run_cli(make_settings(), "changepassword", "ghost", expect_code=1)
    assert "does not exist" in done.stderr
