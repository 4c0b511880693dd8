"""The keys service on PostgreSQL: migrations, issue/authenticate/revoke, and the limit under concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hangar.keys.app import App
from hangar.keys.domain import PERSONAL_KEYS_PER_USER, KeyStatus
from hangar.keys.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.kit import testing
from hangar.kit.errors import LimitExceeded, Unauthenticated

pytestmark = pytest.mark.postgres


async def test_keys_on_postgresql(clock: Any) -> None:
    async with (
        testing.postgres_database("hangar_keys_test") as url,
        testing.service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
    ):
        app = App(uow, clock)
        issued, secret = await app.issue_personal_key("acme", "u-1", "ci", ["registry"], 3600)
        view = await app.authenticate(secret)
        assert view.key_id == issued.key_id
        assert view.last_used_at == clock.now
        assert view.expires_at == issued.expires_at

        # Concurrent issues for one user: the owner lock makes count-then-insert atomic.
        results = await asyncio.gather(
            *(
                app.issue_personal_key("acme", "u-2", f"k{i}", ["registry"], None)
                for i in range(PERSONAL_KEYS_PER_USER + 4)
            ),
            return_exceptions=True,
        )
        assert sum(isinstance(r, tuple) for r in results) == PERSONAL_KEYS_PER_USER
        assert all(isinstance(r, (tuple, LimitExceeded)) for r in results)
        assert len(await app.list_keys("u-2")) == PERSONAL_KEYS_PER_USER

        assert sorted(await app.revoke_user_keys("acme", "u-1", "removed")) == [issued.key_id]
        with pytest.raises(Unauthenticated) as caught:
            await app.authenticate(secret)
        assert caught.value.code == "KEY_REVOKED"

        expiring, expiring_secret = await app.issue_personal_key("acme", "u-3", "ci", ["admin"], 3600)
        clock.advance(3600)
        with pytest.raises(Unauthenticated) as caught:
            await app.authenticate(expiring_secret)
        assert caught.value.code == "KEY_EXPIRED"
        assert (await app.get_key(expiring.key_id)).status is KeyStatus.EXPIRED
