"""Usernames and emails that only look alike are one name, or refused."""

from __future__ import annotations

import pytest

from authgate.core.identity import mixes_scripts, username_format_problems, username_key


@pytest.mark.parametrize("lookalike", ["Admin", "ADMIN", "adm\u0131n", "adm\u0130n", "ａｄｍｉｎ"])
def test_case_width_and_the_turkish_is_fold_to_one_key(lookalike: str) -> None:
    assert username_key(lookalike) == username_key("admin")


@pytest.mark.parametrize(
    "name",
    ["p\u0430ypal", "g\u03bfogle", "\u0430dmin_2"],  # a Cyrillic а, a Greek ο
)
def test_a_latin_name_with_a_letter_of_another_script_is_refused(name: str) -> None:
    assert mixes_scripts(name)
    assert [m.code for m in username_format_problems(name)] == ["invalid_username"]


@pytest.mark.parametrize(
    "name",
    ["admin", "Иван_Петров", "Ελένη", "José", "山田太郎", "yamada_やまだ", "김민준", "u_42.x"],
)
def test_names_in_one_script_or_a_usual_mix_are_fine(name: str) -> None:
    assert not mixes_scripts(name)
    assert username_format_problems(name) == []
