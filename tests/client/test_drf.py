"""The DRF authentication class, run where Django and DRF are: the reference virtualenv of the
differential tests (.cache/reference-venv), never authgate's own. authgate runs for real in this
process; the probe (drf_probe.py) asks it over HTTP from a DRF view in a child process."""

from __future__ import annotations

import importlib.util
import json
import os
import site
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jwt as pyjwt
import pytest
from bench.reference.env import DEFAULT_VENV_DIR, ReferenceUnavailableError, ensure_venv

from authgate.settings import Settings
from tests.client.support import PASSWORD, closed_port_url
from tests.conftest import TEST_SECRET
from tests.dialects.test_directory import make_staff
from tests.support import Api

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PYTHON = ROOT / ".cache" / "reference-venv" / "bin" / "python"
PROBE = Path(__file__).with_name("drf_probe.py")


def _reference_python() -> Path:
    """The python that has Django and DRF (this one, else the reference venv's), or a skip
    saying why there is none."""
    if importlib.util.find_spec("django") and importlib.util.find_spec("rest_framework"):
        return Path(sys.executable)
    if not REFERENCE_PYTHON.exists():
        # Built as the differential tests build it (they may not have run yet).
        try:
            ensure_venv(DEFAULT_VENV_DIR)
        except ReferenceUnavailableError as error:
            pytest.skip(f"the reference Django stack cannot be installed here: {error}")
    found = subprocess.run(
        [str(REFERENCE_PYTHON), "-c", "import django, rest_framework"],
        capture_output=True,
        timeout=60,
    )
    if found.returncode != 0:
        pytest.skip("the reference venv has no Django/DRF: " + found.stderr.decode()[-300:])
    return REFERENCE_PYTHON


def _access(api: Api, username: str) -> str:
    pair = api.http.post("/auth/jwt/create/", json={"username": username, "password": PASSWORD})
    assert pair.status_code == 200, pair.text
    access: str = pair.json()["access"]
    return access


def test_drf_authentication_class(api: Api, make_settings: Callable[..., Settings]) -> None:
    python = _reference_python()
    john = api.register("john")["id"]
    token = api.login("john")
    boss = api.register("boss")["id"]
    make_staff(make_settings(), "boss")
    boss_token, boss_jwt = api.login("boss"), _access(api, "boss")
    # A deployment whose tokens state the flag (custom claims): signed with authgate's key.
    claimed = pyjwt.decode(_access(api, "john"), options={"verify_signature": False})
    claimed_jwt = pyjwt.encode(claimed | {"is_staff": True}, TEST_SECRET, algorithm="HS256")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env["AUTHGATE_PROBE_PATH"] = os.pathsep.join([str(ROOT / "src"), *site.getsitepackages()])
    done = subprocess.run(
        [
            *(str(python), str(PROBE), str(api.http.base_url).rstrip("/"), token),
            *(closed_port_url(), boss_token, boss_jwt, claimed_jwt),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    for name in ("token", "bearer"):
        assert answers[name]["status"] == 200, answers[name]
        assert answers[name]["body"] == {"user_id": john, "username": "john", "kind": "opaque"}
    for name in ("missing", "other_scheme"):  # not ours: DRF's own 401 for no credentials
        assert answers[name]["status"] == 401
        assert answers[name]["challenge"] == "Bearer"
    assert answers["invalid"] == {
        "status": 401,
        "body": {"detail": "Invalid token."},
        "challenge": "Bearer",
    }
    assert answers["down"]["status"] == 503
    assert answers["down"]["body"]["detail"].startswith("The authentication service")
    # DRF's IsAdminUser reads is_staff: from authgate's record of an opaque token's holder,
    # from the claims of a JWT that states it; a JWT that does not is no staff.
    assert answers["admin_by_john"]["status"] == 403
    assert answers["admin_by_staff"] == {
        "status": 200,
        "body": {"user_id": boss, "is_superuser": False},
        "challenge": None,
    }
    assert answers["admin_by_staff_jwt"]["status"] == 403
    assert answers["admin_by_claimed_staff_jwt"]["status"] == 200
    assert answers["admin_by_claimed_staff_jwt"]["body"]["user_id"] == john
