"""The inbox: which events a consumer has already applied, written in the same transaction as the effect."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.kit import schema

_SEEN = select(schema.inbox.c.event_id).where(
    schema.inbox.c.consumer == bindparam("consumer"), schema.inbox.c.event_id == bindparam("event_id")
)
_RECORD = insert(schema.inbox)


class Inbox:
    def __init__(self, session: AsyncConnection, consumer: str) -> None:
        self._session = session
        self._consumer = consumer

    async def seen(self, event_id: str) -> bool:
        result = await self._session.execute(_SEEN, {"consumer": self._consumer, "event_id": event_id})
        return result.first() is not None

    async def record(self, event_id: str, event_type: str) -> None:
        await self._session.execute(
            _RECORD,
            {
                "consumer": self._consumer,
                "event_id": event_id,
                "type": event_type,
                "processed_at": datetime.now(UTC),
            },
        )
