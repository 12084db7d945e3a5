"""The client package as a service behind authgate gets it: docs/client.md's install command,
run as written into a clean virtualenv (its dependencies from PyPI, the newest releases, as a
user would get them), brings the client and nothing of the server, imports without Redis or
Starlette, and guards requests against a real authgate. Also: its sdist is self-contained (the
source is one copy, src/authgate/client, linked into clients/python), and the server's own
install imports `authgate.client` without Redis.

The virtualenv is made once per module (about 20 s: pip and PyPI)."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from tests.support import Api

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CLIENT_PROJECT = ROOT / "clients" / "python"
SOURCE = ROOT / "src" / "authgate" / "client"
GUIDE = ROOT / "docs" / "client.md"
SERVER_PACKAGES = {
    "authgate",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "argon2-cffi",
    "pydantic",
    "typer",
    "jinja2",
    "redis",
    "django",
}
MOST_PACKAGES = 16
"""httpx and PyJWT[crypto] with their own dependencies, pip and setuptools: about 14."""


def documented_install() -> list[str]:
    """The guide's command for the client alone (its first `pip install` line), as argv."""
    commands = re.findall(r"^(pip install [^#\n]+?)\s*(?:#.*)?$", GUIDE.read_text(), re.MULTILINE)
    assert commands, "docs/client.md shows no pip install command"
    argv = shlex.split(commands[0])
    assert argv == ["pip", "install", "./clients/python"]  # the command this module tests
    return argv


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError:
        return False
    return True


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AUTHGATE_", "PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE"))
    }


@pytest.fixture(scope="module")
def client_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtualenv's python after the guide's install command, run from the checkout."""
    if not _pypi_reachable():
        pytest.skip("PyPI cannot be reached: the client's dependencies come from it")
    venv = tmp_path_factory.mktemp("client-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    pip, install, *arguments = documented_install()
    done = subprocess.run(
        [str(python), "-m", pip, install, *arguments],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return python


def _run(python: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`code` run by `python` in an empty folder (so nothing of the checkout is importable)."""
    return subprocess.run(
        [str(python), "-c", code, *args],
        cwd=python.parent,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_command_installs_the_client_alone(client_python: Path) -> None:
    listed = subprocess.run(
        [str(client_python), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env=_clean_env(),
        timeout=120,
    )
    names = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    assert {"authgate-guard", "httpx", "pyjwt", "cryptography"} <= names
    assert not names & SERVER_PACKAGES
    assert len(names) <= MOST_PACKAGES, sorted(names)


CHECK_INSTALLED = """
import importlib.util, json, sys
import authgate_guard
from authgate_guard import AuthgateClient, GuardOptions, SyncGuard
answers = {
    "server": importlib.util.find_spec("authgate") is not None,
    "redis": importlib.util.find_spec("redis") is not None,
    "starlette": importlib.util.find_spec("starlette") is not None,
    "module": authgate_guard.__file__,
}
guard = SyncGuard(sys.argv[1])
answers["username"] = guard.authenticate("Token " + sys.argv[2]).username
with AuthgateClient(sys.argv[1]) as client:
    answers["check_token"] = client.check_token(sys.argv[2], "john")
for name, make in (
    ("redis_error", lambda: SyncGuard(sys.argv[1], GuardOptions(redis_url="redis://127.0.0.1/0"))),
    ("starlette_error", lambda: authgate_guard.RequireIdentity),
):
    try:
        make()
    except ImportError as error:
        answers[name] = str(error)
print(json.dumps(answers))
"""


def test_the_installed_client_guards_a_real_authgate_without_redis_or_starlette(
    client_python: Path, api: Api
) -> None:
    api.register("john")
    token = api.login("john")
    done = _run(client_python, CHECK_INSTALLED, str(api.http.base_url).rstrip("/"), token)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert (answers["server"], answers["redis"], answers["starlette"]) == (False, False, False)
    assert "site-packages" in answers["module"]  # the installed copy, not the checkout
    assert (answers["username"], answers["check_token"]) == ("john", "john")
    assert "the client's [redis] extra" in answers["redis_error"]
    assert "./clients/python[redis]" in answers["redis_error"]
    assert answers["starlette_error"] == (
        "RequireIdentity is for Starlette and FastAPI services: it needs starlette"
    )


def test_the_client_declares_its_redis_extra_and_no_server() -> None:
    project = tomllib.loads((CLIENT_PROJECT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "authgate-guard"
    assert [r.split(">")[0] for r in project["dependencies"]] == ["httpx", "pyjwt[crypto]"]
    assert project["optional-dependencies"] == {"redis": ["redis>=5.0"]}
    assert (CLIENT_PROJECT / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()


def test_the_sdist_holds_the_one_copy_of_the_source(tmp_path: Path) -> None:
    """clients/python/src/authgate_guard links to src/authgate/client; the sdist holds the
    files themselves, so a wheel builds from it anywhere."""
    link = CLIENT_PROJECT / "src" / "authgate_guard"
    assert link.is_symlink()
    assert link.resolve() == SOURCE
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path)],
        cwd=CLIENT_PROJECT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (sdist,) = tmp_path.glob("authgate_guard-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1]: m for m in archive.getmembers()}
        packaged = {n.removeprefix("src/authgate_guard/") for n in members if "/authgate_g" in n}
        assert not [m.name for m in members.values() if m.issym() or m.islnk()]
        guard = archive.extractfile(members["src/authgate_guard/guard.py"])
        assert guard is not None
        assert guard.read() == (SOURCE / "guard.py").read_bytes()
    source = {p.name for p in SOURCE.iterdir() if p.suffix in (".py", ".typed")}
    assert packaged == source


def test_the_server_install_imports_authgate_client_without_redis() -> None:
    """`pip install 'authgate[client]'` brings no Redis: `authgate.client` must import, and a
    guard told to follow revocations must say which extra it needs."""
    code = (
        "import sys; sys.modules['redis'] = None\n"  # `import redis` now fails
        "from authgate.client import Guard, GuardOptions\n"
        "Guard('http://127.0.0.1:9')\n"
        "try:\n"
        "    Guard('http://127.0.0.1:9', GuardOptions(redis_url='redis://127.0.0.1/0'))\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_clean_env()
    )
    assert done.returncode == 0, done.stderr
    assert "needs the redis package, which the client's [redis] extra brings" in done.stdout
