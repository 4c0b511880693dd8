"""Fixtures for identity's app and adapter tests: the App over a migrated SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hangar.identity.app import App
from hangar.identity.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.kit.testing import service_units_of_work


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}"
    async with service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow:
        yield App(uow)
