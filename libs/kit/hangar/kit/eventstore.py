"""The event store: append with optimistic concurrency, projections and outbox in the same transaction."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.kit import context, schema, tracing
from hangar.kit.codec import EventCodec
from hangar.kit.errors import ConcurrencyConflict
from hangar.kit.events import DomainEvent
from hangar.kit.subjects import EVENT_ID_HEADER as EVENT_ID_HEADER
from hangar.kit.subjects import EVENT_TIME_HEADER as EVENT_TIME_HEADER
from hangar.kit.subjects import EVENT_TYPE_HEADER as EVENT_TYPE_HEADER

MSG_ID_HEADER = "Nats-Msg-Id"


@dataclasses.dataclass(frozen=True)
class StoredEvent:
    """An event as recorded: its stream position, global position, stable type name and metadata."""

    event_id: str
    stream_id: str
    version: int
    position: int
    type: str
    event: DomainEvent
    meta: dict[str, Any]
    recorded_at: datetime


# Statements built once: SQLAlchemy then reuses their cache keys and compiled forms, and each execution
# only binds its parameters (building a statement per call cost more than executing it).
_STREAM_VERSION = select(func.max(schema.events.c.version)).where(
    schema.events.c.stream_id == bindparam("stream_id")
)
_LOAD_STREAM = (
    select(schema.events)
    .where(schema.events.c.stream_id == bindparam("stream_id"))
    .order_by(schema.events.c.version)
)
_INSERT_EVENT = insert(schema.events)
_INSERT_OUTBOX = insert(schema.outbox)


@dataclasses.dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An outbox row as written, for the relay to publish without reading it back (`OutboxRelay`)."""

    row_id: int
    subject: str
    payload: bytes
    headers: dict[str, str]


#: A projection: updates read-model tables from one stored event, inside the appending transaction.
Projector = Callable[[AsyncConnection, StoredEvent], Awaitable[None]]


class EventStore:
    """One service's event store, bound to the session of a unit of work."""

    def __init__(
        self,
        session: AsyncConnection,
        codec: EventCodec,
        *,
        subject_prefix: str,
        projectors: Sequence[Projector] = (),
        written: list[OutboxMessage] | None = None,
    ) -> None:
        self._session = session
        self._codec = codec
        self._subject_prefix = subject_prefix
        self._projectors = projectors
        #: Where the outbox rows this store writes are noted (the unit of work hands them to the relay once
        #: its transaction commits).
        self._written = written

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[DomainEvent]
    ) -> list[StoredEvent]:
        """Append events after `expected_version` (0 for a new stream); a concurrent append conflicts."""
        if not events:
            return []
        current = await self.stream_version(stream_id)
        if current != expected_version:
            raise ConcurrencyConflict(
                f"stream {stream_id} is at version {current}, expected {expected_version}"
            )
        call = context.current()
        now = datetime.now(UTC)
        traceparent = tracing.current_traceparent()
        stored: list[StoredEvent] = []
        for offset, event in enumerate(events, start=1):
            entry, payload, public = self._codec.encode_both(event)
            event_id = str(uuid.uuid4())
            meta = {
                "event_id": event_id,
                "actor": call.actor,
                "correlation_id": call.correlation_id or event_id,
                "causation_id": call.causation_id,
                "traceparent": traceparent,
                "time": now.isoformat(),
            }
            try:
                result = await self._session.execute(
                    _INSERT_EVENT,
                    {
                        "event_id": event_id,
                        "stream_id": stream_id,
                        "version": expected_version + offset,
                        "type": entry.name,
                        "payload": payload,
                        "meta": meta,
                        "recorded_at": now,
                    },
                )
            except IntegrityError as exc:
                raise ConcurrencyConflict(f"stream {stream_id} was appended to concurrently") from exc
            primary_key = result.inserted_primary_key
            assert primary_key is not None
            position = int(primary_key[0])
            record = StoredEvent(
                event_id, stream_id, expected_version + offset, position, entry.name, event, meta, now
            )
            subject = f"{self._subject_prefix}.{self._codec.service}.{entry.short_name}"
            headers = _headers(record)
            outbox_row = await self._session.execute(
                _INSERT_OUTBOX,
                {
                    "event_id": event_id,
                    "subject": subject,
                    "payload": public,
                    "headers": headers,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                },
            )
            if self._written is not None:
                row_key = outbox_row.inserted_primary_key
                assert row_key is not None
                self._written.append(OutboxMessage(int(row_key[0]), subject, public, headers))
            for project in self._projectors:
                await project(self._session, record)
            stored.append(record)
        return stored

    async def stream_version(self, stream_id: str) -> int:
        result = await self._session.execute(_STREAM_VERSION, {"stream_id": stream_id})
        return int(result.scalar() or 0)

    async def load(self, stream_id: str) -> list[StoredEvent]:
        result = await self._session.execute(_LOAD_STREAM, {"stream_id": stream_id})
        return [self._decode(row) for row in result.mappings()]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events in global order after a position (the audit log's source)."""
        result = await self._session.execute(
            select(schema.events)
            .where(schema.events.c.position > after_position)
            .order_by(schema.events.c.position)
            .limit(limit)
        )
        return [self._decode(row) for row in result.mappings()]

    def _decode(self, row: Any) -> StoredEvent:
        return StoredEvent(
            event_id=row["event_id"],
            stream_id=row["stream_id"],
            version=row["version"],
            position=row["position"],
            type=row["type"],
            event=self._codec.decode(row["type"], row["payload"]),
            meta=dict(row["meta"]),
            recorded_at=row["recorded_at"],
        )


def _headers(record: StoredEvent) -> dict[str, str]:
    headers = {
        MSG_ID_HEADER: record.event_id,
        EVENT_ID_HEADER: record.event_id,
        EVENT_TYPE_HEADER: record.type,
        EVENT_TIME_HEADER: record.meta["time"],
        context.CORRELATION_HEADER: record.meta["correlation_id"],
        context.CAUSATION_HEADER: record.event_id,
    }
    if record.meta["actor"]:
        headers[context.ACTOR_HEADER] = record.meta["actor"]
    if record.meta["traceparent"]:
        headers["traceparent"] = record.meta["traceparent"]
    return headers
