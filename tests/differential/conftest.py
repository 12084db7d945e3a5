"""Fixtures of the differential suite: the real Django + DRF + Djoser stack beside authgate.

Each side gets its own fresh SQLite database and its own real SMTP server (aiosmtpd), so the
emails each side sends can be read back and their links used on that same side. The servers
are shared by every test of the module (starting them and hashing passwords is what costs);
user ids are compared through the user they belong to (parity.py), so no test depends on
another's registrations.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.reference.env import (
    find_free_port,
    start_server,
    stop_server,
)

from authgate.settings import Settings
from tests.conftest import TEST_SECRET
from tests.differential.parity import Pair, Side
from tests.support import live_server, smtp_server

HTTP_TIMEOUT_S = 30.0
REFERENCE_SECRET = "parity-reference-secret-key-not-authgates-0123456789abcdef"
"""The reference's SECRET_KEY, hence SimpleJWT's SIGNING_KEY there (authgate's is TEST_SECRET):
distinct, so neither side accepts the other's tokens, and known, so tests can mint JWTs."""


@dataclass(frozen=True)
class Setup:
    """One configuration, told to each side in its own terms."""

    djoser: Mapping[str, object] = field(default_factory=dict)
    """Merged over the reference's DJOSER settings (REFERENCE_DJOSER_JSON)."""
    authgate: Mapping[str, object] = field(default_factory=dict)
    """authgate Settings overrides meaning the same."""
    activation: bool = False
    """Djoser's SEND_ACTIVATION_EMAIL, authgate's send_activation_email."""
    simple_jwt: Mapping[str, object] = field(default_factory=dict)
    """The reference's SIMPLE_JWT settings (REFERENCE_SIMPLE_JWT_JSON); say the same in
    `authgate`."""


ROTATION = Setup(
    simple_jwt={"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True},
    authgate={
        "jwt_rotate_refresh_tokens": True,
        "jwt_blacklist_after_rotation": True,
        "jwt_refresh_reuse_interval_seconds": 0,
    },
    activation=True,
)
"""SimpleJWT's refresh rotation with the blacklist (authgate's default once rotation is on),
and activation emails on, so that inactive accounts exist. SimpleJWT has no reuse interval
(a used token presented again at once is refused): authgate's is off here, and its race
between tabs is tested in tests/dialects/test_refresh_reuse.py."""

RETYPES = Setup(
    djoser={
        "USER_CREATE_PASSWORD_RETYPE": True,
        "SET_PASSWORD_RETYPE": True,
        "SET_USERNAME_RETYPE": True,
        "PASSWORD_RESET_CONFIRM_RETYPE": True,
        "USERNAME_RESET_CONFIRM_RETYPE": True,
        "HIDE_USERS": False,
    },
    authgate={
        "user_create_password_retype": True,
        "set_password_retype": True,
        "set_username_retype": True,
        "password_reset_confirm_retype": True,
        "username_reset_confirm_retype": True,
        "hide_users": False,
    },
)


def _authgate_settings(database: Path, smtp_port: int, setup: Setup) -> Settings:
    """Settings as tests/conftest.py builds them; AUTHGATE_* variables of the host must not
    leak in, and the module-scoped fixture cannot use the function-scoped monkeypatch."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{database}",
        "secret_key": TEST_SECRET,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "frontend_url": "https://app.example.com",
        "send_activation_email": setup.activation,
        # The reference has no throttling or lockout (DRF's throttles are off by default), and
        # these servers live for the whole module: compare the answers, not the limits.
        "throttle_enabled": False,
        "lockout_enabled": False,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("AUTHGATE_"):
                patch.delenv(name)
        return Settings(_env_file=None, **(values | dict(setup.authgate)))


def _reference_env(smtp_port: int, setup: Setup) -> dict[str, str]:
    env = {
        "REFERENCE_EMAIL_HOST": "127.0.0.1",
        "REFERENCE_EMAIL_PORT": str(smtp_port),
        "REFERENCE_DJOSER_JSON": json.dumps(dict(setup.djoser)),
        "REFERENCE_SECRET_KEY": REFERENCE_SECRET,
        # What is compared is the answers, not the hashing: authgate's side hashes at the
        # least argon2 cost (tests.support.CHEAP_ARGON2), and so, cheaply, does the reference.
        "REFERENCE_FAST_HASHER": "1",
    }
    if setup.activation:
        env["REFERENCE_SEND_ACTIVATION_EMAIL"] = "1"
    if setup.simple_jwt:
        env["REFERENCE_SIMPLE_JWT_JSON"] = json.dumps(dict(setup.simple_jwt))
    return env


@contextmanager
def running_pair(
    python: Path, workdir: Path, template: Path, reference_template: Path, setup: Setup
) -> Iterator[Pair]:
    """Start both servers (and an SMTP server for each) over fresh databases in `workdir`,
    copies of the migrated `template` (authgate's) and `reference_template`."""
    with (
        smtp_server() as (reference_mail, reference_smtp),
        smtp_server() as (
            authgate_mail,
            authgate_smtp,
        ),
    ):
        port = find_free_port()
        env = _reference_env(reference_smtp, setup)
        shutil.copy(reference_template, workdir / "reference.sqlite3")
        process = start_server(python, port=port, db_path=workdir / "reference.sqlite3", env=env)
        try:
            database = workdir / "authgate.sqlite3"
            shutil.copy(template, database)
            settings = _authgate_settings(database, authgate_smtp, setup)
            with (
                live_server(settings) as authgate_url,
                httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=HTTP_TIMEOUT_S) as ref,
                httpx.Client(base_url=authgate_url, timeout=HTTP_TIMEOUT_S) as ours,
            ):
                yield Pair(
                    Side("reference", ref, reference_mail),
                    Side("authgate", ours, authgate_mail),
                    process,
                )
        finally:
            stop_server(process)


@pytest.fixture(scope="module")
def pair(
    reference_python: Path,
    reference_database: Path,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    """Both stacks with default settings (activation emails off)."""
    workdir = tmp_path_factory.mktemp("parity")
    with running_pair(
        reference_python, workdir, sqlite_template, reference_database, Setup()
    ) as running:
        yield running


@pytest.fixture(scope="module")
def activation_pair(
    reference_python: Path,
    reference_database: Path,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    """Both stacks with activation emails on (new accounts start inactive)."""
    workdir = tmp_path_factory.mktemp("parity-activation")
    setup = Setup(activation=True)
    with running_pair(
        reference_python, workdir, sqlite_template, reference_database, setup
    ) as running:
        yield running


@pytest.fixture(scope="module")
def retype_pair(
    reference_python: Path,
    reference_database: Path,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    """Both stacks asking every password and username twice, with HIDE_USERS off."""
    workdir = tmp_path_factory.mktemp("parity-retype")
    with running_pair(
        reference_python, workdir, sqlite_template, reference_database, RETYPES
    ) as running:
        yield running


@pytest.fixture(scope="module")
def rotation_pair(
    reference_python: Path,
    reference_database: Path,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    """Both stacks rotating refresh tokens and blacklisting the used ones, with activation
    emails on."""
    workdir = tmp_path_factory.mktemp("parity-rotation")
    with running_pair(
        reference_python, workdir, sqlite_template, reference_database, ROTATION
    ) as running:
        yield running
