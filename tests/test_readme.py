"""The README (or a page under docs/) documents every setting."""

from __future__ import annotations

from pathlib import Path

from authgate.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_readme_lists_every_setting() -> None:
    text = "\n".join(p.read_text() for p in [README, *sorted((ROOT / "docs").glob("*.md"))])
    names = {
        # A setting read under a library's own name (PROMETHEUS_MULTIPROC_DIR) keeps it.
        name: field.validation_alias if isinstance(field.validation_alias, str) else None
        for name, field in Settings.model_fields.items()
    }
    missing = [
        name
        for name, alias in names.items()
        if f"`{alias or f'AUTHGATE_{name.upper()}'}`" not in text
    ]
    assert missing == []
