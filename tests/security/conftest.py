"""Fixtures of the attack suite: one live server per module (each test makes its own users)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.helpers import Server, module_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A live server with default settings (cookies over plain HTTP) for the whole module."""
    with module_server(tmp_path_factory.mktemp("security")) as running:
        yield running
