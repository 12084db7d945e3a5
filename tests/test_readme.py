"""The README documents every setting."""

from __future__ import annotations

from pathlib import Path

from authgate.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_lists_every_setting() -> None:
    text = README.read_text()
    missing = [name for name in Settings.model_fields if f"`AUTHGATE_{name.upper()}`" not in text]
    assert missing == []
