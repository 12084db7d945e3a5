"""The layering holds: the core knows nothing of HTTP, and no module but settings reads the
environment."""

from __future__ import annotations

import ast
from pathlib import Path

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


def test_only_settings_and_the_cli_touch_the_environment() -> None:
    readers = sorted(
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if "os.environ" in path.read_text() or "getenv" in path.read_text()
    )
    # The CLI hands a generated development secret to its uvicorn workers through the environment.
    assert readers == ["cli.py"]
