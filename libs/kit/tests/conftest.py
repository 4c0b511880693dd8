"""Fixtures for the kit's contract tests: every contract runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest

from hangar.kit import migrations, testing
from hangar.kit.db import Database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'kit.db'}"
        await migrations.upgrade(url, None)
        yield url
        return
    async with testing.postgres_database("hangar_kit_test") as url:
        await migrations.upgrade(url, None)
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def jetstream() -> AsyncIterator[tuple[nats.js.JetStreamContext, str, str]]:
    """The machine's NATS, with a stream and subject prefix of this test's own."""
    nc = await nats.connect(testing.SHARED_NATS_URL)
    js = nc.jetstream()
    stream, prefix = testing.unique_name("KITTEST"), testing.unique_name("kittest")
    try:
        yield js, stream, prefix
    finally:
        with contextlib.suppress(Exception):  # the test may not have created it
            await js.delete_stream(stream)
        await nc.close()
