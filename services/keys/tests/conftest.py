"""Fixtures of the keys tests: a migrated SQLite keys database, a hand-driven clock and the App over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hangar.keys.app import App
from hangar.keys.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.kit import testing
from hangar.kit.uow import UnitOfWorkFactory


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
async def uow(data_dir: Path) -> AsyncIterator[UnitOfWorkFactory[Any]]:
    url = f"sqlite+aiosqlite:///{data_dir / 'keys.db'}"
    async with testing.service_units_of_work(
        url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews
    ) as factory:
        yield factory


@pytest.fixture
def app(uow: UnitOfWorkFactory[Any], clock: FakeClock) -> App:
    return App(uow, clock)
