"""The layering holds: the core knows nothing of HTTP, the store knows of the core only its
records (and errors), the core knows of the store only its protocol, and no module but settings
reads the environment."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "authgate"
HTTP_MODULES = (
    "starlette",
    "uvicorn",
    "pydantic",
    "authgate.http",
    "authgate.dialects",
    "authgate.app",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_imports_nothing_of_http() -> None:
    offenders = {
        str(path.relative_to(SOURCE)): sorted(
            n for n in _imports(path) if n.startswith(HTTP_MODULES)
        )
        for path in (SOURCE / "core").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


# What the store may import of the rest of authgate: the core's records and errors, the constants,
# the worker threads its SQLite writes run on.
STORE_MAY_IMPORT = (
    "authgate.core.models",
    "authgate.core.errors",
    "authgate.constants",
    "authgate.worker_threads",
)
# What the core may import of the store: its protocol (the store raises the core's
# UnavailableError itself: the core never asks which driver errors mean "the database is away").
CORE_MAY_IMPORT_OF_STORE = ("authgate.store.protocol",)


def test_the_store_imports_only_the_cores_records_and_errors() -> None:
    offenders = {
        str(path.relative_to(SOURCE)): sorted(
            n
            for n in _imports(path)
            if n.startswith("authgate") and not n.startswith(("authgate.store", *STORE_MAY_IMPORT))
        )
        for path in (SOURCE / "store").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_core_imports_only_the_stores_protocol() -> None:
    """No cycle: the core sees the store through its protocol, never an implementation (the
    SQL, the drivers, the SqlStore)."""
    offenders = {
        str(path.relative_to(SOURCE)): sorted(
            n
            for n in _imports(path)
            if n.startswith("authgate.store") and not n.startswith(CORE_MAY_IMPORT_OF_STORE)
        )
        for path in (SOURCE / "core").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_composition_module_wires_the_core() -> None:
    """authgate/composition.py builds every service of the core; the core never imports it
    (it would be a cycle) and its package only declares the `Core` the dialects receive."""
    importers = sorted(
        str(path.relative_to(SOURCE))
        for path in (SOURCE / "core").rglob("*.py")
        if any(n.startswith("authgate.composition") for n in _imports(path))
    )
    assert importers == []
    package = ast.parse((SOURCE / "core" / "__init__.py").read_text())
    assert [n.name for n in package.body if isinstance(n, ast.FunctionDef)] == []


def test_only_the_drivers_know_a_database_library() -> None:
    """SQLite's and PostgreSQL's libraries are the drivers' business (and the checks before
    serving's, and the test for "the database is away"); the one SqlStore runs on either."""
    libraries = ("sqlite3", "asyncpg")
    users = sorted(
        str(path.relative_to(SOURCE))
        for path in (SOURCE / "store").rglob("*.py")
        if any(n.split(".")[0] in libraries for n in _imports(path))
    )
    assert users == [
        "store/drivers/bounded_pool.py",
        "store/drivers/postgres.py",
        "store/drivers/sqlite.py",
        "store/preflight.py",
        "store/unavailable.py",
    ]


def test_only_settings_and_the_cli_touch_the_environment() -> None:
    readers = sorted(
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if "os.environ" in path.read_text() or "getenv" in path.read_text()
    )
    # The CLI hands a generated development secret to its uvicorn workers through the environment.
    assert readers == ["cli.py"]


@pytest.mark.slow
def test_a_serving_worker_loads_neither_sqlalchemy_nor_alembic() -> None:
    """Migrations run in a process of their own (cli._upgrade_apart): the worker that serves
    never pays the memory of the schema tools."""
    code = (
        "import sys, authgate.cli, authgate.app; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"


def test_the_user_columns_are_the_schemas() -> None:
    from authgate.store.schema import auth_user
    from authgate.store.sql import AUTH_USER_COLUMNS, UPDATABLE_USER_COLUMNS

    assert tuple(c.name for c in auth_user.c) == AUTH_USER_COLUMNS
    assert {c.name for c in auth_user.c} - {"id", "date_joined"} == UPDATABLE_USER_COLUMNS


def test_no_deployment_can_hash_below_the_settings_cost() -> None:
    """The tests' least argon2 cost (tests.support.CHEAP_ARGON2) reaches a core only through
    build_core's / create_app's `argon2` argument: the service only hands that argument on
    (create_app to build_core) and builds an Argon2Cost only from the settings (build_core),
    so a deployment hashes at its settings' cost, which Settings keeps at OWASP's minimum."""
    handed_on, built = [], []
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(SOURCE)}:{node.lineno}"
            for keyword in node.keywords:
                if keyword.arg == "argon2":
                    value = keyword.value
                    handed_on.append((where, isinstance(value, ast.Name) and value.id == "argon2"))
            if isinstance(node.func, ast.Name) and node.func.id == "Argon2Cost":
                built.append(where.split(":")[0])
    assert handed_on
    assert [where for where, plain in handed_on if not plain] == []
    assert built == ["composition.py"]
