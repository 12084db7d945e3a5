"""Interoperability with the real SimpleJWT: a stock SimpleJWT-protected DRF view configured with
the same key accepts authgate's access tokens, and authgate's verify/ accepts SimpleJWT's."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.reference.env import REFERENCE_DIR, find_free_port, start_server, stop_server

from authgate.settings import Settings
from tests.conftest import TEST_SECRET
from tests.support import Api, live_server

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def stacks(
    reference_python: Path, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, Api]]:
    """The reference (SIGNING_KEY = its SECRET_KEY = ours) and authgate, side by side."""
    workdir = tmp_path_factory.mktemp("jwt-interop")
    port = find_free_port()
    env = {"REFERENCE_SECRET_KEY": TEST_SECRET}
    process = start_server(reference_python, port=port, db_path=workdir / "ref.sqlite3", env=env)
    try:
        database = workdir / "authgate.sqlite3"
        shutil.copy(sqlite_template, database)
        settings = Settings(
            database_url=f"sqlite:///{database}", secret_key=TEST_SECRET, _env_file=None
        )
        with (
            live_server(settings) as authgate_url,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as reference,
        ):
            yield reference, Api(authgate_url)
    finally:
        stop_server(process)


def _simplejwt_access_token(python: Path, user_id: int) -> str:
    """An access token minted by SimpleJWT itself (AccessToken(), as for_user builds it)."""
    code = (
        "from rest_framework_simplejwt.tokens import AccessToken\n"
        f"token = AccessToken()\ntoken['user_id'] = '{user_id}'\nprint(token)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHGATE_", "DJANGO_"))}
    env |= {"REFERENCE_SECRET_KEY": TEST_SECRET, "PYTHONPATH": str(REFERENCE_DIR)}
    done = subprocess.run(
        [str(python), "manage.py", "shell", "-c", code],
        cwd=REFERENCE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip().splitlines()[-1]


def test_simplejwt_accepts_authgate_access_tokens(stacks: tuple[httpx.Client, Api]) -> None:
    reference, api = stacks
    user = api.register("interop-out")
    pair = api.http.post(
        "/auth/jwt/create/", json={"username": "interop-out", "password": "Correct-Horse-9"}
    ).json()
    answer = reference.get("/jwt-whoami/", headers={"Authorization": f"Bearer {pair['access']}"})
    assert (answer.status_code, answer.json()) == (200, {"user_id": str(user["id"])})
    refused = reference.get("/jwt-whoami/", headers={"Authorization": f"Bearer {pair['refresh']}"})
    assert refused.status_code == 401


def test_authgate_verifies_simplejwt_tokens(
    stacks: tuple[httpx.Client, Api], reference_python: Path
) -> None:
    _, api = stacks
    user = api.register("interop-in")
    token = _simplejwt_access_token(reference_python, user["id"])
    answer = api.http.post("/auth/jwt/verify/", json={"token": token})
    assert (answer.status_code, answer.json()) == (200, {})
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert api.http.post("/auth/jwt/verify/", json={"token": forged}).status_code == 401
