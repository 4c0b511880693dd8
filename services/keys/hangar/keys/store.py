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
    Boolean,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    and_,
    false,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.api.keys.v1 import events_pb2
from hangar.keys.domain import (
    KeyActivated,
    KeyDeactivated,
    KeyDeleted,
    KeyExpired,
    KeyIssued,
    KeyRenamed,
    KeyRevoked,
    KeyRotated,
    KeyScope,
    KeyScopesUpdated,
    KeyServicesUpdated,
    KeyStatus,
    KeyType,
    KeyView,
    PageCursor,
)
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
    # ks0002: a service key's scopes (a list of KeyScope objects), the issuing user, and deletion.
    Column("scopes", JSON, nullable=False, server_default=text("'[]'")),
    Column("created_by", String(128), nullable=False, server_default=""),
    Column("deleted", Boolean, nullable=False, server_default=false()),
    Index("ux_api_keys_prefix", "prefix", unique=True),
    Index("ix_api_keys_owner", "owner_user_id", "created_at"),
    Index("ix_api_keys_org_owner", "org", "owner_user_id"),
    Index("ix_api_keys_org_created", "org", "created_at", "key_id"),
    Index("ix_api_keys_expiry", "status", "expires_at"),
)

_LIVE = (KeyStatus.ACTIVE.value, KeyStatus.INACTIVE.value)


def codec() -> EventCodec:
    """The keys events and their messages; a key's secret hash is stored, never published."""
    registry = EventCodec("keys")
    registry.register(KeyIssued, events_pb2.KeyIssued, private=["secret_hash"])
    registry.register(KeyRevoked, events_pb2.KeyRevoked)
    registry.register(KeyExpired, events_pb2.KeyExpired)
    registry.register(KeyRotated, events_pb2.KeyRotated, private=["secret_hash"])
    registry.register(KeyActivated, events_pb2.KeyActivated)
    registry.register(KeyDeactivated, events_pb2.KeyDeactivated)
    registry.register(KeyRenamed, events_pb2.KeyRenamed)
    registry.register(KeyServicesUpdated, events_pb2.KeyServicesUpdated)
    registry.register(KeyScopesUpdated, events_pb2.KeyScopesUpdated)
    registry.register(KeyDeleted, events_pb2.KeyDeleted)
    return registry


def scopes_to_json(scopes: tuple[KeyScope, ...]) -> list[dict[str, Any]]:
    return [
        {
            "actions": list(scope.actions),
            "entity_types": list(scope.entity_types),
            "team": scope.team,
            "repository": scope.repository,
        }
        for scope in scopes
    ]


def scopes_from_json(value: Any) -> tuple[KeyScope, ...]:
    return tuple(
        KeyScope(
            actions=tuple(scope.get("actions", ())),
            entity_types=tuple(scope.get("entity_types", ())),
            team=scope.get("team", ""),
            repository=scope.get("repository", ""),
        )
        for scope in value or ()
    )


# -- projection -------------------------------------------------------------------------------------------


async def _set(session: AsyncConnection, key_id: str, *where: Any, **values: Any) -> None:
    await session.execute(update(api_keys).where(api_keys.c.key_id == key_id, *where).values(**values))


async def project_keys(session: AsyncConnection, stored: StoredEvent) -> None:
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
                        scopes=scopes_to_json(event.scopes),
                        created_by=event.created_by or event.owner_user_id,
                        deleted=False,
                    )
                )
            except IntegrityError as exc:
                # Two issues drew the same prefix at once: the command is retried with a fresh secret.
                raise ConcurrencyConflict(f"key prefix {event.prefix} was taken concurrently") from exc
        case KeyRotated() as event:
            try:
                await _set(session, event.key_id, prefix=event.prefix, secret_hash=event.secret_hash)
            except IntegrityError as exc:
                raise ConcurrencyConflict(f"key prefix {event.prefix} was taken concurrently") from exc
        case KeyActivated() as event:
            await _set(session, event.key_id, api_keys.c.status.in_(_LIVE), status=KeyStatus.ACTIVE.value)
        case KeyDeactivated() as event:
            await _set(session, event.key_id, api_keys.c.status.in_(_LIVE), status=KeyStatus.INACTIVE.value)
        case KeyRenamed() as event:
            await _set(session, event.key_id, name=event.name)
        case KeyServicesUpdated() as event:
            await _set(session, event.key_id, services=list(event.services))
        case KeyScopesUpdated() as event:
            await _set(session, event.key_id, scopes=scopes_to_json(event.scopes))
        case KeyRevoked() as event:
            await _set(session, event.key_id, status=KeyStatus.REVOKED.value)
        case KeyExpired() as event:
            await _set(session, event.key_id, api_keys.c.status.in_(_LIVE), status=KeyStatus.EXPIRED.value)
        case KeyDeleted() as event:
            await _set(session, event.key_id, status=KeyStatus.REVOKED.value, deleted=True)


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
        scopes=scopes_from_json(row.scopes),
        created_by=row.created_by,
        deleted=bool(row.deleted),
    )


def _not_past_expiry(now: datetime) -> Any:
    return or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now.astimezone(UTC))


def _live(now: datetime) -> tuple[Any, ...]:
    """Holds a slot at `now`: active or inactive, not deleted, not past its expiry."""
    return (api_keys.c.status.in_(_LIVE), api_keys.c.deleted.is_(False), _not_past_expiry(now))


_LISTING_ORDER = (api_keys.c.created_at, api_keys.c.key_id)


class SqlViews:
    """`hangar.keys.app.Views` over the `api_keys` table, on the session of one unit of work."""

    def __init__(self, session: AsyncConnection) -> None:
        self._session = session

    async def _one(self, *where: Any) -> KeyView | None:
        row = (await self._session.execute(select(api_keys).where(*where))).first()
        return None if row is None else _view(row)

    async def _many(self, *where: Any, limit: int | None = None) -> list[KeyView]:
        query = select(api_keys).where(*where).order_by(*_LISTING_ORDER)
        if limit is not None:
            query = query.limit(limit)
        return [_view(row) for row in await self._session.execute(query)]

    async def _count(self, *where: Any) -> int:
        result = await self._session.execute(select(func.count()).select_from(api_keys).where(*where))
        return int(result.scalar_one())

    async def key_by_prefix(self, prefix: str) -> KeyView | None:
        return await self._one(api_keys.c.prefix == prefix)

    async def key_by_id(self, key_id: str) -> KeyView | None:
        return await self._one(api_keys.c.key_id == key_id)

    async def keys_of_user(self, user_id: str) -> list[KeyView]:
        return await self._many(api_keys.c.owner_user_id == user_id, api_keys.c.deleted.is_(False))

    async def count_live_personal_keys(self, user_id: str, now: datetime) -> int:
        return await self._count(
            api_keys.c.owner_user_id == user_id,
            api_keys.c.key_type == KeyType.PERSONAL.value,
            *_live(now),
        )

    async def count_live_service_keys(self, org: str, now: datetime) -> int:
        return await self._count(
            api_keys.c.org == org, api_keys.c.key_type == KeyType.SERVICE.value, *_live(now)
        )

    async def live_legacy_keys(self, org: str, user_id: str) -> list[KeyView]:
        return await self._many(
            api_keys.c.org == org,
            api_keys.c.owner_user_id == user_id,
            api_keys.c.key_type == KeyType.LEGACY.value,
            api_keys.c.status.in_(_LIVE),
        )

    async def live_user_keys_in_org(self, org: str, user_id: str) -> list[KeyView]:
        return await self._many(
            api_keys.c.org == org,
            api_keys.c.owner_user_id == user_id,
            api_keys.c.key_type.in_((KeyType.PERSONAL.value, KeyType.LEGACY.value)),
            api_keys.c.status.in_(_LIVE),
        )

    async def org_keys(
        self,
        org: str,
        *,
        user_id: str,
        include_dead: bool,
        now: datetime,
        after: PageCursor | None,
        limit: int,
    ) -> list[KeyView]:
        where: list[Any] = [api_keys.c.org == org]
        if user_id:
            where.append(api_keys.c.owner_user_id == user_id)
        if not include_dead:
            where.extend(_live(now))
        if after is not None:
            where.append(
                or_(
                    api_keys.c.created_at > after.created_at,
                    and_(api_keys.c.created_at == after.created_at, api_keys.c.key_id > after.key_id),
                )
            )
        return await self._many(*where, limit=limit)

    async def keys_due_for_expiry(self, now: datetime, limit: int) -> list[str]:
        result = await self._session.execute(
            select(api_keys.c.key_id)
            .where(
                api_keys.c.status.in_(_LIVE),
                api_keys.c.expires_at.is_not(None),
                api_keys.c.expires_at <= now.astimezone(UTC),
            )
            .order_by(api_keys.c.expires_at, api_keys.c.key_id)
            .limit(limit)
        )
        return list(result.scalars())

    async def _advisory_lock(self, name: str) -> None:
        # SQLite: write transactions begin IMMEDIATE and so already run one at a time (decision 0003).
        # PostgreSQL: a transaction-scoped advisory lock makes count-then-insert atomic.
        if self._session.dialect.name == "postgresql":
            await self._session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"), {"lock": name}
            )

    async def lock_owner(self, user_id: str) -> None:
        await self._advisory_lock(f"hangar.keys.owner:{user_id}")

    async def lock_org(self, org: str) -> None:
        await self._advisory_lock(f"hangar.keys.org:{org}")

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
        return bool(result.rowcount)
