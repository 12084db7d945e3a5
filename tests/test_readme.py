"""The README, or a page under docs/, documents every setting."""

from __future__ import annotations

from pathlib import Path

from authgate.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_readme_lists_every_setting() -> None:
    text = "\n".join(p.read_text() for p in [README, *sorted((ROOT / "docs").glob("*.md"))])
    missing = [name for name in Settings.model_fields if f"`AUTHGATE_{name.upper()}`" not in text]
    assert missing == []
