"""Schemathesis against a live server, over the whole OpenAPI document, with valid credentials:
no server error, and no answer that contradicts the document (status, content type, body).

Bounded in time (AUTHGATE_FUZZ_SECONDS, 45 s by default) so that CI stays short; a longer run
is the same test with a bigger budget. Paths that would end the fuzzer's own session (logout,
password and username changes) are left out, or every later case would only see 401s.
Activation is on, so that resend_activation answers as a deployment that uses it does
(with activation off it answers Djoser's empty 400).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from authgate.settings import Settings
from tests.support import Api, run_cli

pytestmark = pytest.mark.slow

PASSWORD = "Fuzz-Horse-Battery-9"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
SESSION_ENDING = r"logout|set_password|set_username|^/auth/users/me/$"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_api_holds_to_its_openapi_document(
    serve: Callable[..., Api], make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    overrides = {
        "send_activation_email": True,
        "throttle_enabled": False,
        "lockout_enabled": False,
        "cookie_secure": False,
    }
    api = serve(**overrides)
    run_cli(
        make_settings(**overrides),
        "createsuperuser",
        "--no-input",
        "--username",
        "fuzzer",
        "--email",
        "fuzzer@example.com",
        password=PASSWORD,
    )
    login = api.http.post("/auth/token/login/", json={"username": "fuzzer", "password": PASSWORD})
    token = login.json()["auth_token"]
    schemathesis = Path(sys.executable).parent / "schemathesis"
    seconds = os.environ.get("AUTHGATE_FUZZ_SECONDS", "45")
    command = [
        str(schemathesis),
        "run",
        f"{api.http.base_url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--header",
        f"Authorization: Token {token}",
        "--max-time",
        seconds,
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--exclude-path-regex",
        SESSION_ENDING,
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=int(seconds) + 120,
        check=False,
        cwd=tmp_path,  # schemathesis keeps a cache folder where it runs
    )
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    assert "unique failures" not in done.stdout, report
