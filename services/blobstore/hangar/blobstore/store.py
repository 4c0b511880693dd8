"""The blobstore's read models (upload sessions, blobs), their projectors, queries, codec and migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.api.blobstore.v1 import events_pb2
from hangar.blobstore.app import BlobView, UploadView
from hangar.blobstore.domain import (
    BlobCondemned,
    BlobDeleted,
    BlobSpared,
    BlobStored,
    UploadCancelled,
    UploadStarted,
    UploadState,
)
from hangar.kit.codec import EventCodec
from hangar.kit.eventstore import Projector, StoredEvent

MIGRATIONS: Final = Path(__file__).parent / "migrations"

metadata = MetaData()

upload_sessions = Table(
    "upload_sessions",
    metadata,
    Column("upload_id", String(32), primary_key=True),
    Column("owner", String(512), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

blobs = Table(
    "blobs",
    metadata,
    Column("digest", String(200), primary_key=True),  # "<algorithm>:<hex>", canonical
    Column("size", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


#: Garbage collection (docs/decisions/0017): one row per digest the registry ever reported on. `state` is
#: condemned, spared or deleted; `generation` the newest registry report applied.
blob_collection = Table(
    "blob_collection",
    metadata,
    Column("digest", String(200), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("generation", BigInteger, nullable=False),
    Column("condemned_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The sweep: condemned digests, oldest first.
    Index("ix_blob_collection_due", "state", "condemned_at"),
)

CONDEMNED: Final = "condemned"
SPARED: Final = "spared"
DELETED: Final = "deleted"


def codec() -> EventCodec:
    """Blobstore's events and their messages in hangar/api/blobstore/v1/events.proto."""
    events = EventCodec("blobstore")
    events.register(UploadStarted, events_pb2.UploadStarted)
    events.register(BlobStored, events_pb2.BlobStored)
    events.register(UploadCancelled, events_pb2.UploadCancelled)
    events.register(BlobCondemned, events_pb2.BlobCondemned)
    events.register(BlobSpared, events_pb2.BlobSpared)
    events.register(BlobDeleted, events_pb2.BlobDeleted)
    return events


# -- projectors ----------------------------------------------------------------------------------------

# Statements built once: SQLAlchemy reuses their cache keys and compiled forms; a call only binds values.
_INSERT_SESSION = upload_sessions.insert()
_SESSION_STATE = (
    update(upload_sessions)
    .where(upload_sessions.c.upload_id == bindparam("key"))
    .values(state=bindparam("state"), updated_at=bindparam("updated_at"))
)
_INSERT_BLOB = {
    "postgresql": postgresql.insert(blobs).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(blobs).on_conflict_do_nothing(),
}
_DELETE_BLOB = delete(blobs).where(blobs.c.digest == bindparam("key"))
_COLLECTION_UPDATES: dict[tuple[str, ...], Any] = {
    columns: update(blob_collection)
    .where(blob_collection.c.digest == bindparam("key"))
    .values({column: bindparam(column) for column in (*columns, "updated_at")})
    for columns in (("state", "generation", "condemned_at"), ("state", "condemned_at"))
}
_INSERT_COLLECTION = blob_collection.insert()


async def project_upload_sessions(session: AsyncConnection, stored: StoredEvent) -> None:
    event = stored.event
    if isinstance(event, UploadStarted):
        await session.execute(
            _INSERT_SESSION,
            {
                "upload_id": event.upload_id,
                "owner": event.owner,
                "state": UploadState.OPEN.value,
                "created_at": stored.recorded_at,
                "updated_at": stored.recorded_at,
            },
        )
    elif isinstance(event, BlobStored | UploadCancelled):
        state = UploadState.COMMITTED if isinstance(event, BlobStored) else UploadState.CANCELLED
        await session.execute(
            _SESSION_STATE, {"key": event.upload_id, "state": state.value, "updated_at": stored.recorded_at}
        )


async def project_blobs(session: AsyncConnection, stored: StoredEvent) -> None:
    event = stored.event
    if isinstance(event, BlobStored):
        # Whatever `new_content` says, the row may be missing (content stored before a crash kept its event
        # from being recorded) or present (a concurrent commit of the same content): insert if absent.
        await session.execute(
            _insert_ignoring_duplicates(session),
            {"digest": event.digest, "size": event.size, "created_at": stored.recorded_at},
        )


async def project_blob_collection(session: AsyncConnection, stored: StoredEvent) -> None:
    event = stored.event
    at = stored.recorded_at
    if isinstance(event, BlobCondemned):
        values: dict[str, Any] = {
            "state": CONDEMNED,
            "generation": event.generation,
            "condemned_at": event.condemned_at,
        }
    elif isinstance(event, BlobSpared):
        values = {"state": SPARED, "generation": event.generation, "condemned_at": None}
    elif isinstance(event, BlobDeleted):
        values = {"state": DELETED, "condemned_at": None}
        # Gone from the blob index too: a stat or a new upload's commit finds no blob.
        await session.execute(_DELETE_BLOB, {"key": event.digest})
    else:
        return
    updated = await session.execute(
        _COLLECTION_UPDATES[tuple(values)], {**values, "key": event.digest, "updated_at": at}
    )
    if updated.rowcount == 0:
        await session.execute(
            _INSERT_COLLECTION, {"digest": event.digest, "generation": 0, **values, "updated_at": at}
        )


PROJECTORS: Final[tuple[Projector, ...]] = (project_upload_sessions, project_blobs, project_blob_collection)


def _insert_ignoring_duplicates(session: AsyncConnection) -> Any:
    dialect = session.dialect.name
    try:
        return _INSERT_BLOB[dialect]
    except KeyError:
        raise NotImplementedError(f"no insert-if-absent for {dialect}") from None


# -- queries -------------------------------------------------------------------------------------------


_UPLOAD = select(upload_sessions).where(upload_sessions.c.upload_id == bindparam("key"))
_COLLECTION_STATE = select(blob_collection.c.state).where(blob_collection.c.digest == bindparam("key"))
_LOCK_COLLECTION = (
    select(blob_collection.c.digest).where(blob_collection.c.digest == bindparam("key")).with_for_update()
)
_BLOB = select(blobs).where(blobs.c.digest == bindparam("key"))


class SqlViews:
    """`app.Views` on the session of a unit of work."""

    def __init__(self, session: AsyncConnection) -> None:
        self._session = session

    async def upload(self, upload_id: str) -> UploadView | None:
        result = await self._session.execute(_UPLOAD, {"key": upload_id})
        row = result.mappings().first()
        if row is None:
            return None
        return UploadView(
            upload_id=row["upload_id"],
            owner=row["owner"],
            state=UploadState(row["state"]),
            created_at=_utc(row["created_at"]),
            updated_at=_utc(row["updated_at"]),
        )

    async def condemned(self, digest: str) -> bool:
        result = await self._session.execute(_COLLECTION_STATE, {"key": digest})
        return result.scalar_one_or_none() == CONDEMNED

    async def lock_collection(self, digest: str) -> None:
        # FOR UPDATE on PostgreSQL; SQLite's write transactions (BEGIN IMMEDIATE) already run one at a time.
        await self._session.execute(_LOCK_COLLECTION, {"key": digest})

    async def condemned_before(self, cutoff: datetime, limit: int) -> list[str]:
        result = await self._session.execute(
            select(blob_collection.c.digest)
            .where(blob_collection.c.state == CONDEMNED, blob_collection.c.condemned_at <= cutoff)
            .order_by(blob_collection.c.condemned_at)
            .limit(limit)
        )
        return list(result.scalars())

    async def blob(self, digest: str) -> BlobView | None:
        result = await self._session.execute(_BLOB, {"key": digest})
        row = result.mappings().first()
        if row is None:
            return None
        return BlobView(digest=row["digest"], size=row["size"], created_at=_utc(row["created_at"]))


def _utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
