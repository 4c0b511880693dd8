"""Fixtures for blobstore's app and gRPC tests: a migrated service database (SQLite, and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from hangar.blobstore import store
from hangar.kit import testing
from hangar.kit.uow import UnitOfWorkFactory


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'blobstore.db'}"
        return
    async with testing.postgres_database("hangar_blobstore_test") as url:
        yield url


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'blobstore.db'}"


def units_of_work(database_url: str) -> AbstractAsyncContextManager[UnitOfWorkFactory[Any]]:
    """Blobstore's unit-of-work factory on a migrated database, as a process would build it at start."""
    return testing.service_units_of_work(
        database_url,
        store.codec(),
        store.MIGRATIONS,
        projectors=store.PROJECTORS,
        views=store.SqlViews,
    )


@pytest.fixture
def open_units_of_work() -> Callable[[str], AbstractAsyncContextManager[UnitOfWorkFactory[Any]]]:
    """Open another unit-of-work factory on a database, like a restarted process (a new engine)."""
    return units_of_work


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWorkFactory[Any]]:
    async with units_of_work(database_url) as factory:
        yield factory
