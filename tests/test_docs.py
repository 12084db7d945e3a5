"""The documentation (README.md and the MkDocs site in docs/) holds to the repository: the site
builds with `mkdocs build --strict` (every page in the navigation, every link and anchor
between pages good), every file the text names exists, and the settings page has a row for
every setting and marks exactly what prod requires."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from authgate.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
# The READMEs of bench/ and examples/ name files too.
PATH_PAGES = [*PAGES, ROOT / "bench" / "README.md", ROOT / "examples" / "rooms" / "README.md"]
SETTINGS_PAGE = DOCS / "settings.md"
# Top-level folders of the repository, and the packages of src/authgate, which the text names
# relative to it (`core/staff.py`).
REPO_DIRS = ("src", "tests", "bench", "docs", "examples", "scripts", "web", ".ci")
PACKAGE = ROOT / "src" / "authgate"
PACKAGE_DIRS = tuple(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name[0] != "_")
FILE_SUFFIXES = (".py", ".md", ".yml", ".yaml", ".toml", ".json", ".sh", ".txt", ".lock")
REVISION = re.compile(r'^revision = "(\w+)"', re.M)
REQUIRED_IN_PROD = "**Required in prod.**"
# A valid value for each setting prod requires (a new requirement in settings.py fails
# test_settings_page_marks_what_prod_requires until it is documented and listed here).
PROD_VALUES: dict[str, Any] = {
    "secret_key": secrets.token_urlsafe(32),
    "smtp_host": "mail.example.com",
}


def prose(page: Path) -> str:
    """The page without its fenced code blocks (whose lines are shell, JSON or a file tree)."""
    return re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)


def named_paths(page: Path) -> list[str]:
    """Every `code span` of the page that names a file or folder of the repository."""
    paths = []
    for span in re.findall(r"`([^`\n]+)`", prose(page)):
        if " " in span or "://" in span or span.startswith("/"):
            continue  # a command, a URL or a URL path
        first = span.removeprefix("./").split("/")[0]
        dotted = span.startswith("./") or re.fullmatch(r"\.\w[\w.-]*", first)  # .ci, .env
        test_file = re.fullmatch(r"test_\w+\.py", span)
        if ("/" in span and first in REPO_DIRS + PACKAGE_DIRS) or dotted or test_file:
            paths.append(span)
    return paths


def exists(span: str) -> bool:
    path = span.removeprefix("./")
    if re.fullmatch(r"test_\w+\.py", path):  # a test named by its file alone
        return any((ROOT / "tests").rglob(path))
    # `module.name` or `module.function()`: the module's file
    module = re.fullmatch(r"(.+/\w+)\.(\w+)(\(\))?", path)
    if module and not path.endswith(FILE_SUFFIXES):
        path = module.group(1) + ".py"
    top = path.split("/")[0]
    base = PACKAGE if top in PACKAGE_DIRS and top not in REPO_DIRS else ROOT
    return (base / path).exists()


def ignored(span: str) -> bool:
    """Whether .gitignore covers the path: something running authgate or its tests makes."""
    path = span.removeprefix("./").rstrip("/")
    for line in (ROOT / ".gitignore").read_text().splitlines():
        pattern = line.strip().rstrip("/")
        if not pattern or pattern.startswith("#"):
            continue
        if "/" in pattern and (path + "/").startswith(pattern + "/"):
            return True
        if "/" not in pattern and any(fnmatch.fnmatch(p, pattern) for p in path.split("/")):
            return True
    return False


def test_pages_are_found() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "index.md", "settings.md", "getting-started.md"} <= names
    assert len(named_paths(ROOT / "docs" / "security.md")) > 20  # the scan sees the paths


def test_every_named_path_exists() -> None:
    missing = [
        f"{page.relative_to(ROOT)}: `{span}`"
        for page in PATH_PAGES
        for span in named_paths(page)
        if not exists(span) and not ignored(span)
    ]
    assert missing == []


def test_the_path_check_can_fail() -> None:
    for span in ("core/nowhere.py", "tests/security/test_nothing.py", "test_nothing.py"):
        assert not exists(span)
    for span in ("core/staff.py", "http/slow_clients.BoundedProtocol", "test_docs.py"):
        assert exists(span)
    assert ignored("tests/artifacts/docs/")
    assert ignored("./.authgate-secret")
    assert not ignored("tests/security/")


def test_every_named_migration_exists() -> None:
    """`0009_username_skeletons` (a revision) or `0008` (its number) names a migration."""
    versions = (PACKAGE / "migrations" / "versions").glob("*.py")
    revisions = {m.group(1) for v in versions for m in [REVISION.search(v.read_text())] if m}
    numbers = {revision.split("_")[0] for revision in revisions}
    named = {span for page in PAGES for span in re.findall(r"`(00\d\d(?:_\w+)?)`", prose(page))}
    assert len(revisions) > 5
    assert sorted(named - revisions - numbers) == []


def test_readme_links_into_the_docs() -> None:
    """GitHub shows the README's links as they are: each relative one names a file here."""
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    relative = [link for link in links if "://" not in link]
    assert relative, "the README links into docs/"
    assert [link for link in relative if not (ROOT / link).is_file()] == []
    linked = {Path(link).name for link in relative}
    assert {"getting-started.md", "settings.md", "security.md"} <= linked


def test_no_api_is_named_after_a_seed() -> None:
    """APIs are named for what they are (the envelope API, the cookie JWT API, ...), never by
    the number of the document they came from."""
    hits = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in [*PAGES, *ROOT.glob("src/**/*.py"), *ROOT.glob("tests/**/*.py")]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bseed 00\d", line, re.I) and "shared/seeds" not in line
    ]
    assert hits == []


# A row naming a variable: AUTHGATE_X, or a library's own name a setting is read under.
SETTING_ROW = r"\| `([A-Z][A-Z0-9_]+)` \|(.*)"


def environment_name(name: str) -> str:
    """The variable a setting is read from (a library's own name where it has one)."""
    alias = Settings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else f"AUTHGATE_{name.upper()}"


def settings_rows(page: Path) -> dict[str, str]:
    """`AUTHGATE_X` -> the rest of its row, for each row of the page's tables."""
    rows = {}
    for line in page.read_text().splitlines():
        row = re.match(SETTING_ROW, line)
        if row:
            rows[row.group(1)] = row.group(2)
    return rows


def documented_settings() -> dict[str, str]:
    """The settings page's rows, and those of the "Settings" sections of the pages it links
    to (a page about a feature may list that feature's settings itself)."""
    rows = settings_rows(SETTINGS_PAGE)
    for link in set(re.findall(r"\]\(([\w-]+\.md)(?:#[^)]*)?\)", SETTINGS_PAGE.read_text())):
        text = (DOCS / link).read_text()
        section = re.search(r"^## Settings\n(.*?)(?=^## |\Z)", text, re.S | re.M)
        if section:
            for line in section.group(1).splitlines():
                row = re.match(SETTING_ROW, line)
                if row:
                    rows[row.group(1)] = row.group(2)
    return rows


def test_settings_page_lists_every_setting_and_no_other() -> None:
    names = {environment_name(name) for name in Settings.model_fields}
    rows = documented_settings()
    assert sorted(names - rows.keys()) == [], "settings without a row in docs/settings.md"
    assert sorted(rows.keys() - names) == [], "rows naming no setting"


def test_settings_page_marks_what_prod_requires() -> None:
    marked = sorted(
        name.removeprefix("AUTHGATE_").lower()
        for name, rest in settings_rows(SETTINGS_PAGE).items()
        if REQUIRED_IN_PROD in rest
    )
    assert marked == sorted(PROD_VALUES)
    values = {name: PROD_VALUES[name] for name in marked}
    Settings(_env_file=None, env="prod", **values)  # nothing else is required
    for name in marked:
        without = {k: v for k, v in values.items() if k != name}
        with pytest.raises(ValidationError, match=f"AUTHGATE_{name.upper()}"):
            Settings(_env_file=None, env="prod", **without)


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """`make docs`: the site builds offline with no warning (--strict), with its navigation
    and its search index."""
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs-material is not installed (make install adds it)")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    index = (site / "index.html").read_text()
    for page in DOCS.glob("*.md"):
        if page.name != "index.md":
            assert f'href="{page.stem}/"' in index, f"{page.name} is not in the navigation"
    assert (site / "search" / "search_index.json").is_file()
    assert "fonts.googleapis.com" not in index  # reads offline
