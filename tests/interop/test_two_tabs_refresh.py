"""Two tabs refreshing at once, driven by Node: axios + axios-auth-refresh from npm (locked in
node/package-lock.json), two axios instances sharing one token store, against a live authgate
with rotation on (issue 12, section 2). Both tabs meet an expired access token at the same
moment, both refresh with the same refresh token, and both must then succeed, with the same
successor, and the login must live on.

The Node packages are installed here (`npm ci`) when missing; .ci/run installs them first,
so CI never skips. Without node or npm the test skips, saying so."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security.helpers import PASSWORD, Server, module_server

pytestmark = pytest.mark.slow

NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the locked packages installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(
            "node and npm are not installed (.ci/run installs them: apt-get install nodejs npm)"
        )
    if not (NODE_DIR / "node_modules" / "axios-auth-refresh").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--loglevel=error"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
    return node


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Rotation on (default reuse interval), access tokens of 2 s (so the tabs really hold an
    expired one, while a refreshed one, whose `exp` is whole seconds, lives at least a second
    for the retried request), JWTs accepted by /auth/users/me/."""
    with module_server(
        tmp_path_factory.mktemp("two-tabs"),
        jwt_rotate_refresh_tokens=True,
        jwt_access_lifetime_seconds=2,
        authentication={"djoser": ["jwt"]},
    ) as running:
        yield running


def _two_tabs(node: str, server: Server) -> dict[str, Any]:
    account = server.user("tabs")
    ran = subprocess.run(
        [node, "script.js", server.base_url, account.username, account.email, PASSWORD],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    report: dict[str, Any] = json.loads(ran.stdout)
    return report


def test_two_axios_tabs_refreshing_at_once_both_succeed(node: str, server: Server) -> None:
    report = _two_tabs(node, server)
    assert set(report) == {"simplejwt", "cookie_jwt"}
    for dialect, tabs in report.items():
        # Both tabs met the expired access token, and refreshed with the same refresh token.
        assert tabs["first401"] == [401, 401], dialect
        assert tabs["sameUsedToken"] is True, dialect
        # Both refreshes were answered with a valid pair, the same successor: a race, not theft.
        assert [r["status"] for r in tabs["refreshes"]] == [200, 200], (dialect, tabs)
        assert tabs["sameRefreshToken"] is True, dialect
        # Both tabs' retried requests went through, and the login lives on.
        assert tabs["statuses"] == [200, 200], (dialect, tabs)
        assert tabs["afterwards"] == 200, (dialect, tabs)
