"""The keys service on PostgreSQL: migrations, issue/authenticate/revoke, rotation, listing, the sweep, and
the limits under concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hangar.keys.app import App
from hangar.keys.domain import PERSONAL_KEYS_PER_USER, SERVICE_KEYS_PER_ORG, KeyScope, KeyStatus, KeyType
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


async def test_service_legacy_listing_and_sweep_on_postgresql(clock: Any) -> None:
    async with (
        testing.postgres_database("hangar_keys_test") as url,
        testing.service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
    ):
        app = App(uow, clock)
        scopes = [KeyScope(("get", "list"), ("model",), team="vision")]

        # Concurrent service-key issues in one org: the org lock makes count-then-insert atomic.
        results = await asyncio.gather(
            *(
                app.issue_service_key("acme", f"bot {i}", ["registry"], scopes, 3600, "u-admin")
                for i in range(SERVICE_KEYS_PER_ORG + 5)
            ),
            return_exceptions=True,
        )
        assert sum(isinstance(r, tuple) for r in results) == SERVICE_KEYS_PER_ORG
        assert all(isinstance(r, (tuple, LimitExceeded)) for r in results)
        bot, bot_secret = next(r for r in results if isinstance(r, tuple))
        assert (await app.authenticate(bot_secret)).scopes == tuple(scopes)

        # Concurrent regenerations of one legacy key: exactly one stays live.
        legacy = await asyncio.gather(*(app.issue_legacy_key("acme", "u-1") for _ in range(5)))
        live = (await app.list_org_keys("acme", user_id="u-1")).keys
        assert [k.key_type for k in live] == [KeyType.LEGACY]
        assert live[0].key_id in {view.key_id for view, _ in legacy}

        # Rotation and deletion.
        _, secret = await app.rotate_key(bot.key_id)
        with pytest.raises(Unauthenticated) as caught:
            await app.authenticate(bot_secret)
        assert caught.value.code == "KEY_INVALID"
        assert (await app.authenticate(secret)).key_id == bot.key_id
        await app.delete_key(bot.key_id)

        # Keyset pages over timestamptz, ties on created_at broken by key id.
        pages, token = [], ""
        while True:
            page = await app.list_org_keys("acme", page_size=7, page_token=token, include_dead=True)
            pages.extend(k.key_id for k in page.keys)
            token = page.next_page_token
            if not token:
                break
        assert len(pages) == len(set(pages)) == SERVICE_KEYS_PER_ORG + 5
        live_now = (await app.list_org_keys("acme")).keys  # 49 service keys (one deleted) and the legacy key
        assert len(live_now) == SERVICE_KEYS_PER_ORG

        # The sweep records every service key's expiry, in bounded passes.
        clock.advance(3600)
        swept = [await app.expire_due_keys(limit=20) for _ in range(4)]
        assert [len(batch) for batch in swept] == [20, 20, 9, 0]
        assert (await app.list_org_keys("acme")).keys[0].key_type is KeyType.LEGACY
