"""Fixtures of the registry tests: a migrated SQLite registry database and the App over it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hangar.kit import testing
from hangar.kit.uow import UnitOfWorkFactory
from hangar.registry.app import App
from hangar.registry.store import MIGRATIONS, PROJECTORS, SqlViews, codec


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory[Any]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    async with testing.service_units_of_work(
        url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews
    ) as factory:
        yield factory


@pytest.fixture
def app(uow: UnitOfWorkFactory[Any]) -> App:
    return App(uow)
