"""Opaque tokens on the core, over a real SQLite store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from authgate.composition import build_core
from authgate.core.errors import TokenInvalidError
from authgate.core.models import TokenPrincipal
from authgate.mailer import LogMailer
from authgate.settings import Settings
from authgate.store.drivers.sqlite import SqliteDriver
from authgate.store.migrate import upgrade
from authgate.store.sql_store import SqlStore


class CountingStore(SqlStore):
    """The real SQLite store, counting the hot path's reads."""

    reads = 0

    async def get_principal(self, digest: str) -> TokenPrincipal | None:
        self.reads += 1
        return await super().get_principal(digest)


def test_an_unknown_token_costs_one_store_read_however_often_it_is_tried(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    upgrade(url)

    async def scenario() -> int:
        store = CountingStore(SqliteDriver(str(tmp_path / "a.sqlite3")))
        await store.connect()
        core = build_core(
            Settings(database_url=url, secret_key="k" * 40, _env_file=None), store, LogMailer()
        )
        try:
            for _ in range(5):
                with pytest.raises(TokenInvalidError):
                    await core.tokens.resolve("0" * 40)
            user = await core.users.register(username="john", email="", password="Correct-Horse-9")
            raw = await core.tokens.issue(user)
            assert (await core.tokens.resolve(raw)).user.id == user.id  # a real token still works
            return store.reads
        finally:
            await core.close()
            await store.close()

    assert asyncio.run(scenario()) == 2  # one for the unknown token, one for the real one
