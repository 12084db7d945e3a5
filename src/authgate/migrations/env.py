"""Alembic environment: runs migrations on SQLite (sync) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from authgate.store.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    # Imported here, not above: SQLAlchemy's asyncio layer needs greenlet, which comes with the
    # postgres extra (beside asyncpg) and not with a bare install, which serves SQLite.
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    """Migrate the database named by the config's sqlalchemy.url."""
    url = config.get_main_option("sqlalchemy.url") or ""
    if url.startswith("postgresql+asyncpg://"):
        asyncio.run(_run_async(url))
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


run_migrations_online()
