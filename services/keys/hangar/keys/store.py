"""The keys read model (table `api_keys`), its projector, the views the app reads, the codec, migrations.

The table holds what may be kept of a key: its prefix (unique: the lookup of `authenticate`) and the hash of
its secret, never the secret. Projections run inside the appending transaction (`hangar.kit.eventstore`).
`last_used_at` is the one column no event writes (`SqlViews.record_use`); projections never touch it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hangar.api.keys.v1 import events_pb2
from hangar.keys.domain import KeyExpired, KeyIssued, KeyRevoked, KeyStatus, KeyType, KeyView
from hangar.kit.codec import EventCodec
from hangar.kit.errors import ConcurrencyConflict
from hangar.kit.eventstore import Projector, StoredEvent

MIGRATIONS = Path(__file__).parent / "migrations"

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(128), primary_key=True),
    Column("key_type", String(16), nullable=False),
    Column("org", String(128), nullable=False),
    # Empty for a key the org owns (service key).
    Column("owner_user_id", String(128), nullable=False),
    Column("name", String(64), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("secret_hash", String(128), nullable=False),
    Column("services", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Index("ux_api_keys_prefix", "prefix", unique=True),
    Index("ix_api_keys_owner", "owner_user_id", "created_at"),
    Index("ix_api_keys_org_owner", "org", "owner_user_id"),
)

_LIVE = (KeyStatus.ACTIVE.value, KeyStatus.INACTIVE.value)


def codec() -> EventCodec:
    """The keys events and their messages; a key's secret hash is stored, never published."""
    registry = EventCodec("keys")
    registry.register(KeyIssued, events_pb2.KeyIssued, private=["secret_hash"])
    registry.register(KeyRevoked, events_pb2.KeyRevoked)
    registry.register(KeyExpired, events_pb2.KeyExpired)
    return registry


# -- projection -------------------------------------------------------------------------------------------


async def project_keys(session: AsyncSession, stored: StoredEvent) -> None:
    """Keep `api_keys` in step with the key events, in the appending transaction."""
    match stored.event:
        case KeyIssued() as event:
            try:
                await session.execute(
                    insert(api_keys).values(
                        key_id=event.key_id,
                        key_type=event.key_type,
                        org=event.org,
                        owner_user_id=event.owner_user_id,
                        name=event.name,
                        prefix=event.prefix,
                        secret_hash=event.secret_hash,
                        services=list(event.services),
                        status=KeyStatus.ACTIVE.value,
                        created_at=event.created_at,
                        expires_at=event.expires_at,
                        last_used_at=None,
                    )
                )
            except IntegrityError as exc:
                # Two issues drew the same prefix at once: the command is retried with a fresh secret.
                raise ConcurrencyConflict(f"key prefix {event.prefix} was taken concurrently") from exc
        case KeyRevoked() as event:
            await session.execute(
                update(api_keys)
                .where(api_keys.c.key_id == event.key_id)
                .values(status=KeyStatus.REVOKED.value)
            )
        case KeyExpired() as event:
            await session.execute(
                update(api_keys)
                .where(api_keys.c.key_id == event.key_id, api_keys.c.status.in_(_LIVE))
                .values(status=KeyStatus.EXPIRED.value)
            )


PROJECTORS: list[Projector] = [project_keys]


# -- views ------------------------------------------------------------------------------------------------


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes (of the UTC values written); PostgreSQL aware ones."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _view(row: Any) -> KeyView:
    created_at = _aware(row.created_at)
    assert created_at is not None
    return KeyView(
        key_id=row.key_id,
        key_type=KeyType(row.key_type),
        org=row.org,
        owner_user_id=row.owner_user_id,
        name=row.name,
        prefix=row.prefix,
        services=tuple(row.services),
        status=KeyStatus(row.status),
        created_at=created_at,
        expires_at=_aware(row.expires_at),
        secret_hash=row.secret_hash,
        last_used_at=_aware(row.last_used_at),
    )


class SqlViews:
    """`hangar.keys.app.Views` over the `api_keys` table, on the session of one unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _one(self, *where: Any) -> KeyView | None:
        row = (await self._session.execute(select(api_keys).where(*where))).first()
        return None if row is None else _view(row)

    async def key_by_prefix(self, prefix: str) -> KeyView | None:
        return await self._one(api_keys.c.prefix == prefix)

    async def key_by_id(self, key_id: str) -> KeyView | None:
        return await self._one(api_keys.c.key_id == key_id)

    async def keys_of_user(self, user_id: str) -> list[KeyView]:
        result = await self._session.execute(
            select(api_keys)
            .where(api_keys.c.owner_user_id == user_id)
            .order_by(api_keys.c.created_at, api_keys.c.key_id)
        )
        return [_view(row) for row in result]

    async def count_live_personal_keys(self, user_id: str, now: datetime) -> int:
        result = await self._session.execute(
            select(func.count())
            .select_from(api_keys)
            .where(
                api_keys.c.owner_user_id == user_id,
                api_keys.c.key_type == KeyType.PERSONAL.value,
                api_keys.c.status.in_(_LIVE),
                or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now.astimezone(UTC)),
            )
        )
        return int(result.scalar_one())

    async def live_user_keys_in_org(self, org: str, user_id: str) -> list[KeyView]:
        result = await self._session.execute(
            select(api_keys)
            .where(
                api_keys.c.org == org,
                api_keys.c.owner_user_id == user_id,
                api_keys.c.key_type.in_((KeyType.PERSONAL.value, KeyType.LEGACY.value)),
                api_keys.c.status.in_(_LIVE),
            )
            .order_by(api_keys.c.created_at, api_keys.c.key_id)
        )
        return [_view(row) for row in result]

    async def lock_owner(self, user_id: str) -> None:
        # SQLite: write transactions begin IMMEDIATE and so already run one at a time (decision 0003).
        # PostgreSQL: a transaction-scoped advisory lock per owner makes count-then-insert atomic.
        bind = self._session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"),
                {"lock": f"hangar.keys.owner:{user_id}"},
            )

    async def record_use(self, key_id: str, at: datetime, *, unless_since: datetime) -> bool:
        result = await self._session.execute(
            update(api_keys)
            .where(
                api_keys.c.key_id == key_id,
                or_(
                    api_keys.c.last_used_at.is_(None),
                    api_keys.c.last_used_at < unless_since.astimezone(UTC),
                ),
            )
            .values(last_used_at=at.astimezone(UTC))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
