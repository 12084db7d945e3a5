"""The newest schema revision this package ships, read from its migration files' `revision` and
`down_revision` lines without Alembic.

/readyz compares it with the database's (Store.schema_revision). Alembic's ScriptDirectory
would tell the same, but importing it brings SQLAlchemy into the serving process, which
`authgate serve` keeps out (cli.py `_upgrade_apart`); a test checks that both agree.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


class RevisionError(ValueError):
    """The migration files do not form one chain with a single head."""


@dataclass(frozen=True, slots=True)
class Revisions:
    """The package's migrations: the newest, and every one."""

    head: str
    known: frozenset[str]


@cache
def shipped_revisions(versions: Path = VERSIONS) -> Revisions:
    """The revisions of the migration files, and the one no other names as its
    `down_revision` (read once a process)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        names = _assignments(path)
        revision = names.get("revision")
        if not isinstance(revision, str):
            raise RevisionError(f"{path.name} sets no revision")
        revisions.add(revision)
        down = names.get("down_revision")
        parents.update([down] if isinstance(down, str) else down or ())
    heads = revisions - parents
    if len(heads) != 1:
        raise RevisionError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return Revisions(head=heads.pop(), known=frozenset(revisions))


def head_revision() -> str:
    """The newest revision the package ships."""
    return shipped_revisions().head


def _assignments(path: Path) -> dict[str, str | tuple[str, ...] | None]:
    """The module-level `name = <literal>` (or `name: type = <literal>`) of a migration."""
    found: dict[str, str | tuple[str, ...] | None] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            literal = ast.literal_eval(value)
            found[target.id] = tuple(literal) if isinstance(literal, list | tuple) else literal
    return found
