"""Alembic migrations: the kit's own tables, and the runner every service's migrations use."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

KIT_MIGRATIONS = Path(__file__).parent
KIT_VERSION_TABLE = "hangar_kit_alembic_version"
#: pg_advisory_xact_lock key held while a database migrates ("hangarmg" in ASCII), so replicas that start
#: together (Kubernetes init containers) migrate one after another instead of racing on CREATE TABLE.
MIGRATION_LOCK_KEY = 0x68616E6761726D67


def _config(script_location: Path, version_table: str, connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["connection"] = connection
    config.attributes["version_table"] = version_table
    return config


async def upgrade(database_url: str, service_migrations: Path | None, *, revision: str = "head") -> None:
    """Bring a service database to `revision`: the kit's tables first, then the service's own (if any)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # released with the transaction; the next runner then finds the schema at head
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await conn.run_sync(
                lambda sync: command.upgrade(_config(KIT_MIGRATIONS, KIT_VERSION_TABLE, sync), "head")
            )
            if service_migrations is not None:
                await conn.run_sync(
                    lambda sync: command.upgrade(
                        _config(service_migrations, "alembic_version", sync), revision
                    )
                )
    finally:
        await engine.dispose()


def run_env(target_metadata: Any = None) -> None:
    """The body of every env.py: run migrations on the connection the runner handed over."""
    from alembic import context

    config = context.config
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=config.attributes.get("version_table", "alembic_version"),
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def upgrade_sync(database_url: str, service_migrations: Path) -> None:
    asyncio.run(upgrade(database_url, service_migrations))
