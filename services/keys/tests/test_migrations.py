"""Upgrading a keys database holding ks0001 data to ks0002: the old keys keep working and gain the rest."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.keys.app import App
from hangar.keys.domain import ApiKey, KeyIssued, KeyScope, KeySecret, KeyStatus
from hangar.keys.store import MIGRATIONS, PROJECTORS, SqlViews, api_keys, codec
from hangar.kit import migrations, testing
from hangar.kit.db import Database
from hangar.kit.errors import Unauthenticated
from hangar.kit.eventstore import StoredEvent
from hangar.kit.uow import UnitOfWorkFactory

# The api_keys table as ks0001 made it, and as its projector wrote it.
_WHEN = sa.DateTime(timezone=True)
_ks0001_api_keys = sa.table(
    "api_keys",
    *(sa.column(name) for name in ("key_id", "key_type", "org", "owner_user_id", "name", "prefix")),
    sa.column("secret_hash"),
    sa.column("services", sa.JSON),
    sa.column("status"),
    sa.column("created_at", _WHEN),
    sa.column("expires_at", _WHEN),
    sa.column("last_used_at", _WHEN),
)


async def _ks0001_projection(session: AsyncConnection, stored: StoredEvent) -> None:
    event = stored.event
    assert isinstance(event, KeyIssued)
    await session.execute(
        sa.insert(_ks0001_api_keys).values(
            key_id=event.key_id,
            key_type=event.key_type,
            org=event.org,
            owner_user_id=event.owner_user_id,
            name=event.name,
            prefix=event.prefix,
            secret_hash=event.secret_hash,
            services=list(event.services),
            status="active",
            created_at=event.created_at,
            expires_at=event.expires_at,
            last_used_at=None,
        )
    )


async def _write_ks0001_key(
    uow: UnitOfWorkFactory[Any], clock: Any, key_id: str, user: str, expires: timedelta | None
) -> str:
    generated = KeySecret.generate()
    event = KeyIssued(  # as ks0001's code recorded it: no scopes, no created_by
        key_id=key_id,
        key_type="personal",
        org="acme",
        owner_user_id=user,
        name=f"old {key_id}",
        prefix=generated.prefix,
        secret_hash=generated.secret_hash,
        services=("registry",),
        created_at=clock.now,
        expires_at=None if expires is None else clock.now + expires,
    )
    async with uow() as u:
        await u.events.append(ApiKey.stream_for(key_id), 0, [event])
        await u.commit()
    return generated.secret


async def upgrade_a_ks0001_database_with_keys(url: str, clock: Any) -> None:
    await migrations.upgrade(url, MIGRATIONS, revision="ks0001")
    old_db = Database(url)
    try:
        old = UnitOfWorkFactory(old_db, codec(), subject_prefix="hangar", projectors=[_ks0001_projection])
        old_secret = await _write_ks0001_key(old, clock, "k-old", "u-1", None)
        expiring_secret = await _write_ks0001_key(old, clock, "k-expiring", "u-2", timedelta(hours=1))
    finally:
        await old_db.dispose()

    async with testing.service_units_of_work(
        url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews
    ) as uow:
        async with uow() as u:
            version = (await u.session.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar()
            columns = {
                row.key_id: (row.created_by, row.scopes, row.deleted)
                for row in await u.session.execute(sa.select(api_keys))
            }
        assert version == "ks0002"
        assert columns == {"k-old": ("u-1", [], False), "k-expiring": ("u-2", [], False)}

        app = App(uow, clock)
        view = await app.authenticate(old_secret)
        assert (view.key_id, view.created_by, view.scopes, view.deleted) == ("k-old", "u-1", (), False)
        assert [k.key_id for k in (await app.list_org_keys("acme", user_id="u-1")).keys] == ["k-old"]

        # Every new command works on the old key, which rehydrates from its ks0001 event.
        renamed = await app.update_key("k-old", name="renamed")
        assert renamed.created_by == "u-1"
        _, new_secret = await app.rotate_key("k-old")
        with pytest.raises(Unauthenticated):
            await app.authenticate(old_secret)
        assert (await app.authenticate(new_secret)).name == "renamed"

        clock.advance(3600)
        assert await app.expire_due_keys() == ["k-expiring"]
        with pytest.raises(Unauthenticated) as caught:
            await app.authenticate(expiring_secret)
        assert caught.value.code == "KEY_EXPIRED"

        await app.delete_key("k-old")
        assert (await app.list_org_keys("acme")).keys == ()
        bot, bot_secret = await app.issue_service_key(
            "acme", "bot", ["registry"], [KeyScope(("get",), (), team="vision")], None, "u-1"
        )
        assert (await app.authenticate(bot_secret)).scopes == bot.scopes
        dead = (await app.list_org_keys("acme", include_dead=True)).keys
        assert {(k.key_id, k.status) for k in dead} == {
            ("k-old", KeyStatus.REVOKED),
            ("k-expiring", KeyStatus.EXPIRED),
            (bot.key_id, KeyStatus.ACTIVE),
        }


async def test_upgrading_a_sqlite_database_with_keys(tmp_path: Path, clock: Any) -> None:
    await upgrade_a_ks0001_database_with_keys(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}", clock)


@pytest.mark.postgres
async def test_upgrading_a_postgresql_database_with_keys(clock: Any) -> None:
    async with testing.postgres_database("hangar_keys_migration") as url:
        await upgrade_a_ks0001_database_with_keys(url, clock)
