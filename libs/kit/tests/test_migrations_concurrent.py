"""Replicas that start together migrate one database one after another, each ending at head."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hangar.kit.migrations import upgrade
from hangar.kit.testing import postgres_database

pytestmark = pytest.mark.postgres


async def test_concurrent_upgrades_of_a_fresh_database_all_succeed() -> None:
    async with postgres_database("hangar_kit_migrate") as url:
        # without the lock the runners deadlock or fail on CREATE TABLE; bounded either way
        await asyncio.wait_for(asyncio.gather(*(upgrade(url, None) for _ in range(4))), timeout=60)
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                versions = (
                    await conn.execute(text("SELECT version_num FROM hangar_kit_alembic_version"))
                ).all()
                tables = (
                    await conn.execute(
                        text("SELECT count(*) FROM pg_tables WHERE tablename = 'hangar_events'")
                    )
                ).scalar_one()
        finally:
            await engine.dispose()
        assert len(versions) == 1
        assert tables == 1
