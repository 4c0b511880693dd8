"""NATS JetStream: connection, the event stream, the outbox relay and durable pull consumers with an inbox."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import nats
from google.protobuf.message import DecodeError, Message
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from opentelemetry import trace
from sqlalchemy import bindparam, select, update

from hangar.kit import context, schema, subjects, tracing
from hangar.kit.db import Database
from hangar.kit.eventstore import EVENT_ID_HEADER, EVENT_TYPE_HEADER, OutboxMessage
from hangar.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


async def connect(url: str, name: str) -> NATS:
    """Connect, and keep reconnecting for as long as the process lives."""
    return await nats.connect(
        url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=5
    )


async def ensure_stream(js: JetStreamContext, stream: str, subject_prefix: str) -> None:
    """Create the event stream if it is missing (several services race to do it; any one wins)."""
    config = StreamConfig(name=stream, subjects=[f"{subject_prefix}.>"], duplicate_window=120.0)
    try:
        await js.stream_info(stream)
        return
    except NotFoundError:
        pass
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.stream_info(stream)  # created by a concurrent caller; fail loudly if something else is wrong


subject_for = subjects.subject_for

# The relay's statements, built once (see hangar.kit.eventstore): pending rows oldest first, then marking
# them published, or counting a failed attempt.
_PENDING = (
    select(schema.outbox.c.id, schema.outbox.c.subject, schema.outbox.c.payload, schema.outbox.c.headers)
    .where(schema.outbox.c.status == "pending")
    .order_by(schema.outbox.c.id)
    .limit(bindparam("batch"))
)
_PENDING_SKIP_LOCKED = _PENDING.with_for_update(skip_locked=True)
_PUBLISHED = (
    update(schema.outbox)
    .where(schema.outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(status="published", published_at=bindparam("published_at"))
)
_FAILED = (
    update(schema.outbox)
    .where(schema.outbox.c.id == bindparam("row_id"))
    .values(attempts=schema.outbox.c.attempts + 1, last_error=bindparam("error"))
)


class OutboxRelay:
    """Publishes outbox rows to JetStream in order, with Nats-Msg-Id = event id.

    Rows reach it two ways (docs/decisions/0029). A unit of work that commits hands over the rows it wrote
    (`committed`), and the relay publishes them from memory, then marks them published in batches: at most
    `batch` rows or `mark_delay` seconds after the first unmarked one. A scan of the table (`publish_pending`)
    covers the rest: whatever was pending when the relay started, whatever a failed publish left behind, and,
    every `idle` seconds without a commit, rows another process left. Several relays may scan one
    PostgreSQL database: each claims rows with FOR UPDATE SKIP LOCKED and holds them while publishing. A row
    published twice (a crash before its mark, or a scan racing a hand-over) is dropped by JetStream's
    duplicate window on its Nats-Msg-Id, and by consumers' inboxes after it.
    """

    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        *,
        batch: int = 200,
        idle: float = 2.0,
        mark_delay: float = 0.25,
    ) -> None:
        self._db = db
        self._js = js
        self._batch = batch
        self._idle = idle
        self._mark_delay = mark_delay
        self._wake = asyncio.Event()
        self._stopping = False
        #: Committed rows handed over and not published yet, in commit order.
        self._handed: list[OutboxMessage] = []
        #: Whether rows may be pending that were not handed over (at start, and after a failed publish).
        self._backlog = True
        #: Rows published from memory and not yet marked, and when the first of them was published.
        self._unmarked: list[int] = []
        self._unmarked_since = 0.0

    @property
    def caught_up(self) -> bool:
        """Whether no scan is due: every row is either published or handed over."""
        return not self._backlog

    def committed(self, written: Sequence[OutboxMessage]) -> None:
        """A unit of work committed these outbox rows: publish them soon (the UnitOfWork's `on_commit`)."""
        self._handed.extend(written)
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping:
            # Cleared before publishing: a commit during it sets the event again and the wait returns at once.
            self._wake.clear()
            try:
                if self._backlog:
                    more = await self.publish_pending() == self._batch
                else:
                    await self._publish_handed()
                    more = bool(self._handed)
                if self._unmarked and (
                    len(self._unmarked) >= self._batch
                    or time.monotonic() - self._unmarked_since >= self._mark_delay
                ):
                    await self._mark()
                failures = 0
            except Exception:  # a NATS or database outage: keep the rows, back off, retry
                failures += 1
                self._backlog = True
                log.warning("outbox relay failed; retrying", exc_info=True)
                await asyncio.sleep(min(0.2 * 2**failures, 5.0))
                continue
            if more:
                continue
            timeout = self._idle
            if self._unmarked:
                timeout = max(self._unmarked_since + self._mark_delay - time.monotonic(), 0.0)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except TimeoutError:
                if not self._unmarked:
                    self._backlog = True  # idle: look for rows left by others (or by a lost hand-over)
        with contextlib.suppress(Exception):
            await self._mark()
        await self.publish_pending()

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows read from the table; returns how many were published.

        Rows handed over until now are in the table too, so they are published from there instead. Rows
        published before a failure are marked published and the failing row's attempts counted, in the
        same commit; then the failure is raised for the caller to back off.
        """
        if self._unmarked:
            await self._mark()  # not published again by this scan
        failure: Exception | None = None
        async with self._db.engine.begin() as session:
            self._handed.clear()
            query = _PENDING_SKIP_LOCKED if self._db.is_postgres else _PENDING
            rows = (await session.execute(query, {"batch": self._batch})).all()
            done: list[int] = []
            for row in rows:
                try:
                    await self._js.publish(row.subject, row.payload, headers=dict(row.headers), timeout=5)
                except Exception as exc:
                    failure = exc
                    await session.execute(_FAILED, {"row_id": row.id, "error": str(exc)[:1000] or repr(exc)})
                    break
                done.append(row.id)
            if done:
                await session.execute(_PUBLISHED, {"ids": done, "published_at": datetime.now(UTC)})
        if failure is not None:
            raise failure
        self._backlog = len(done) == self._batch
        return len(done)

    async def _publish_handed(self) -> None:
        """Publish the rows handed over, oldest first. On a failure the failing row, the ones after it and
        any handed over meanwhile are still pending in the table: the caller's next scan (`run` sets the
        backlog) publishes them in order, and drops what is handed over."""
        handed, self._handed = self._handed, []
        for message in handed:
            await self._js.publish(message.subject, message.payload, headers=message.headers, timeout=5)
            if not self._unmarked:
                self._unmarked_since = time.monotonic()
            self._unmarked.append(message.row_id)

    async def _mark(self) -> None:
        """Mark the rows published from memory as published (one statement for the lot)."""
        ids, self._unmarked = self._unmarked, []
        try:
            async with self._db.engine.begin() as session:
                await session.execute(_PUBLISHED, {"ids": ids, "published_at": datetime.now(UTC)})
        except BaseException:
            self._unmarked = [*ids, *self._unmarked]
            raise


class PermanentFailure(Exception):
    """A handler's verdict that this message can never be processed: it is terminated, not redelivered."""


@dataclasses.dataclass(frozen=True)
class ReceivedEvent:
    event_id: str
    type: str
    message: Message
    headers: dict[str, str]


Handler = Callable[[ReceivedEvent, UnitOfWork[Any]], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class Subscription:
    """Route events of one stable type name (hangar.identity.v1.UserRemoved) to a handler.

    `applies`, when given, says from the message alone whether the handler has anything to do: events it
    refuses are acknowledged without a unit of work (no transaction, no inbox row).
    """

    event_type: str
    message: type[Message]
    handler: Handler
    applies: Callable[[Any], bool] | None = None


class EventConsumer:
    """A durable pull consumer with explicit ack/nak/term; each effect is applied exactly once (inbox)."""

    def __init__(
        self,
        js: JetStreamContext,
        uow: Callable[[], UnitOfWork[Any]],
        *,
        name: str,
        stream: str,
        subject_prefix: str,
        subscriptions: Sequence[Subscription],
        max_deliver: int = 20,
    ) -> None:
        self._js = js
        self._uow = uow
        self.name = name
        self._stream = stream
        self._subject_prefix = subject_prefix
        self._routes = {s.event_type: s for s in subscriptions}
        self._max_deliver = max_deliver
        self._stopping = asyncio.Event()
        self._tracer = tracing.tracer("hangar.kit.messaging")

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        subjects = sorted({subject_for(self._subject_prefix, t) for t in self._routes})
        # One subject works on every server; several need NATS 2.10 (older servers deliver everything and the
        # events nobody routes are acked below).
        config = ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
            max_deliver=self._max_deliver,
            ack_wait=30.0,
        )
        await self._js.add_consumer(self._stream, config)
        sub = await self._js.pull_subscribe_bind(durable=self.name, stream=self._stream)
        try:
            while not self._stopping.is_set():
                try:
                    messages = await sub.fetch(batch=32, timeout=1.0)
                except TimeoutError:
                    continue
                except Exception:
                    log.warning("consumer %s fetch failed; retrying", self.name, exc_info=True)
                    await asyncio.sleep(0.5)
                    continue
                for msg in messages:
                    await self.handle(msg)
        finally:
            await sub.unsubscribe()

    async def handle(self, msg: Msg) -> None:
        headers = dict(msg.headers or {})
        event_type = headers.get(EVENT_TYPE_HEADER, "")
        event_id = headers.get(EVENT_ID_HEADER, "")
        if not event_type or not event_id:
            log.error(
                "consumer %s got a message without event headers on %s; terminating it",
                self.name,
                msg.subject,
            )
            await msg.term()
            return
        route = self._routes.get(event_type)
        if route is None:  # not an event this consumer handles (a server that ignores filter_subjects)
            log.debug("consumer %s skips %s", self.name, event_type)
            await msg.ack()
            return
        parent = tracing.extract(headers)
        with (
            self._tracer.start_as_current_span(
                f"consume {event_type}",
                context=parent,
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "nats",
                    "messaging.destination": msg.subject,
                    "messaging.message.id": event_id,
                    "hangar.consumer": self.name,
                },
            ),
            context.bound(
                context.CallContext(
                    actor=headers.get(context.ACTOR_HEADER, ""),
                    correlation_id=headers.get(context.CORRELATION_HEADER, ""),
                    causation_id=event_id,
                )
            ),
        ):
            try:
                message = route.message()
                message.ParseFromString(msg.data)
                if route.applies is None or route.applies(message):
                    await self._apply(ReceivedEvent(event_id, event_type, message, headers), route.handler)
            except (PermanentFailure, DecodeError):
                log.exception(
                    "consumer %s: event %s can never be processed; terminating it", self.name, event_id
                )
                await msg.term()
                return
            except Exception:
                delivered = msg.metadata.num_delivered if msg.metadata else 1
                log.warning(
                    "consumer %s: event %s failed (delivery %d); will retry",
                    self.name,
                    event_id,
                    delivered,
                    exc_info=True,
                )
                await msg.nak(delay=min(0.1 * 2**delivered, 10.0))
                return
        await msg.ack()

    async def _apply(self, event: ReceivedEvent, handler: Handler) -> None:
        async with self._uow() as uow:
            inbox = uow.inbox(self.name)
            if await inbox.seen(event.event_id):
                return
            await handler(event, uow)
            await inbox.record(event.event_id, event.type)
            await uow.commit()
