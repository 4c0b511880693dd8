"""Fixtures for identity's app and adapter tests: the App over a migrated SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hangar.identity.app import App
from hangar.identity.passwords import Argon2Passwords
from hangar.identity.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.identity.testing import RecordingNotifier, SettableClock, cheap_passwords
from hangar.kit.testing import service_units_of_work
from hangar.kit.uow import UnitOfWorkFactory


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def passwords() -> Argon2Passwords:
    return cheap_passwords()


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory[Any]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}"
    async with service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow:
        yield uow


@pytest.fixture
def app(
    uow: UnitOfWorkFactory[Any],
    passwords: Argon2Passwords,
    notifier: RecordingNotifier,
    clock: SettableClock,
) -> App:
    return App(uow, passwords=passwords, notifier=notifier, clock=clock)
