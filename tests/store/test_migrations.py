"""The migrations build exactly the schema of store/schema.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from authgate.store.migrate import sqlalchemy_url, upgrade
from authgate.store.schema import metadata
from tests.support import run


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, metadata))


def test_migrated_database_matches_the_schema(database_url: str) -> None:
    upgrade(database_url)  # a second run is a no-op
    url = sqlalchemy_url(database_url)
    if url.startswith("postgresql+asyncpg://"):

        async def compare() -> list[object]:
            engine = create_async_engine(url)
            async with engine.connect() as connection:
                found = await connection.run_sync(_differences)
            await engine.dispose()
            return found

        assert run(compare()) == []
        return
    engine = create_engine(url)
    with engine.connect() as connection:
        assert _differences(connection) == []
    engine.dispose()
