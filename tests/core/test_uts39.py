"""ICU's UTS #39 checks through its C API answer as PyICU does (core/uts39.py)."""

from __future__ import annotations

import sys

import pytest

from authgate.core import uts39


@pytest.fixture(scope="module")
def c_api() -> uts39.Uts39:
    if sys.platform != "linux":
        pytest.skip("pyicu-wheels ships ICU's libraries as auditwheel's copies on Linux only")
    checks = uts39.load()
    assert isinstance(checks, uts39._CApi), "pyicu-wheels' ICU libraries not found"
    return checks


@pytest.fixture(scope="module")
def pyicu() -> uts39.Uts39:
    return uts39.load(c_api=False)


@pytest.mark.slow
def test_every_code_point_has_pyicus_skeleton_and_profile(
    c_api: uts39.Uts39, pyicu: uts39.Uts39
) -> None:
    """Each code point (lone surrogates too) between Latin letters, and its upper case."""
    differ = []
    for code_point in range(sys.maxunicode + 1):
        char = chr(code_point)
        text = f"a{char}Z{char.upper()}"
        if c_api.skeleton(text) != pyicu.skeleton(text):
            differ.append(("skeleton", text))
        if c_api.all_recommended(text) != pyicu.all_recommended(text):
            differ.append(("profile", text))
    assert differ == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "admin",
        "ADMIN",
        "раураl",  # Cyrillic
        "ᴀce",
        "\ufdfa" * 40,  # one character whose skeleton is 18 (a buffer asked again)
        "x" * 150,
        "\ud800a\udfff",
    ],
)
def test_long_empty_and_odd_texts(c_api: uts39.Uts39, pyicu: uts39.Uts39, text: str) -> None:
    assert c_api.skeleton(text) == pyicu.skeleton(text)
    assert c_api.all_recommended(text) == pyicu.all_recommended(text)


def test_a_skeleton_longer_than_the_first_buffer(c_api: uts39.Uts39) -> None:
    """ﷺ's skeleton is 18 characters: two of them overflow the first buffer (4 * 2 + 16)."""
    assert c_api.skeleton("\ufdfa\ufdfa") == "صلى lللo علىo وسلم" * 2
