"""Outbox relay and inbox consumer contract, on SQLite and PostgreSQL, against the machine's real NATS."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from kit_events import TagMoved, make_codec
from nats.js.errors import NotFoundError
from sqlalchemy import select

from hangar.api.registry.v1 import events_pb2
from hangar.kit import messaging, schema, testing
from hangar.kit.db import Database
from hangar.kit.messaging import EventConsumer, OutboxRelay, ReceivedEvent, Subscription
from hangar.kit.uow import UnitOfWork, UnitOfWorkFactory

pytestmark = pytest.mark.nats


class CountingJetStream:
    """Passes publishes through to JetStream and counts them per Nats-Msg-Id."""

    def __init__(self, js: Any) -> None:
        self.js = js
        self.published: list[str] = []

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str], timeout: float) -> Any:
        self.published.append(headers["Nats-Msg-Id"])
        return await self.js.publish(subject, payload, headers=headers, timeout=timeout)


async def append_tags(uow: UnitOfWorkFactory, stream: str, tags: list[str]) -> None:
    for tag in tags:
        async with uow() as u:
            version = await u.events.stream_version(stream)
            await u.events.append(stream, version, [TagMoved("a/b", tag, "sha256:x")])
            await u.commit()


async def published_tags(db: Database, jetstream: Any, tags: list[str]) -> UnitOfWorkFactory[Any]:
    """The stream made, one TagMoved per tag appended and relayed to it; the unit-of-work factory used."""
    js, stream, prefix = jetstream
    await messaging.ensure_stream(js, stream, prefix)
    uow: UnitOfWorkFactory[Any] = UnitOfWorkFactory(db, make_codec(), subject_prefix=prefix)
    await append_tags(uow, "repo-1", tags)
    assert await OutboxRelay(db, js).publish_pending() == len(tags)
    return uow


TAG_MOVED = "hangar.registry.v1.TagMoved"


def tag_consumer(jetstream: Any, uow: UnitOfWorkFactory[Any], subscription: Subscription) -> EventConsumer:
    """A durable consumer of this test's own name on the test's stream, with one subscription."""
    js, stream, prefix = jetstream
    return EventConsumer(
        js,
        uow,
        name=testing.unique_name("consumer"),
        stream=stream,
        subject_prefix=prefix,
        subscriptions=[subscription],
    )


async def inbox_rows(db: Database, consumer: str) -> int:
    async with db.read_engine.connect() as session:
        rows = await session.execute(
            select(schema.inbox.c.event_id).where(schema.inbox.c.consumer == consumer)
        )
        return len(rows.all())


async def stream_messages(js: Any, stream: str) -> int:
    return int((await js.stream_info(stream)).state.messages)


async def test_relay_publishes_each_event_with_its_id_and_marks_it_published(
    db: Database, jetstream: Any
) -> None:
    js, stream, prefix = jetstream
    await messaging.ensure_stream(js, stream, prefix)
    uow = UnitOfWorkFactory(db, make_codec(), subject_prefix=prefix)
    await append_tags(uow, "repo-1", ["1", "2", "3"])
    relay = OutboxRelay(db, js)
    assert await relay.publish_pending() == 3
    assert await relay.publish_pending() == 0
    assert await stream_messages(js, stream) == 3
    msg = await js.get_msg(stream, seq=1)
    async with db.read_engine.connect() as session:
        rows = (await session.execute(select(schema.outbox).order_by(schema.outbox.c.id))).mappings().all()
    assert msg.headers["Nats-Msg-Id"] == rows[0]["event_id"]
    assert msg.subject == f"{prefix}.registry.TagMoved"
    assert events_pb2.TagMoved.FromString(msg.data).tag == "1"
    assert {r["status"] for r in rows} == {"published"}


async def test_relay_wakes_on_commit_instead_of_waiting_for_its_poll(db: Database, jetstream: Any) -> None:
    js, stream, prefix = jetstream
    await messaging.ensure_stream(js, stream, prefix)
    relay = OutboxRelay(db, js, idle=30.0)
    uow = UnitOfWorkFactory(db, make_codec(), subject_prefix=prefix, on_commit=relay.committed)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.2)  # the relay is idle now, with 30 s to sleep
        started = time.monotonic()
        await append_tags(uow, "repo-1", ["1"])
        await testing.eventually(lambda: stream_messages(js, stream), within=5)
        assert time.monotonic() - started < 1.0
    finally:
        relay.stop()
        await asyncio.wait_for(task, 10)


async def test_two_relays_on_one_database_publish_every_row_once(db: Database, jetstream: Any) -> None:
    js, stream, prefix = jetstream
    await messaging.ensure_stream(js, stream, prefix)
    uow = UnitOfWorkFactory(db, make_codec(), subject_prefix=prefix)
    await append_tags(uow, "repo-1", [str(i) for i in range(60)])
    first, second = CountingJetStream(js), CountingJetStream(js)
    relays = [OutboxRelay(db, first, batch=5), OutboxRelay(db, second, batch=5)]  # type: ignore[arg-type]

    async def drain(relay: OutboxRelay) -> None:
        while await relay.publish_pending():
            await asyncio.sleep(0)

    if db.is_postgres:
        await asyncio.gather(*(drain(r) for r in relays))
    else:  # one SQLite file has one writer at a time: the relays take turns
        for relay in relays:
            await drain(relay)
    published = first.published + second.published
    assert len(published) == 60
    assert len(set(published)) == 60
    assert await stream_messages(js, stream) == 60


async def test_unpublished_rows_stay_pending_when_nats_refuses_them(db: Database, jetstream: Any) -> None:
    js, stream, prefix = jetstream  # no stream created: JetStream has nowhere to store the message
    uow = UnitOfWorkFactory(db, make_codec(), subject_prefix=prefix)
    await append_tags(uow, "repo-1", ["1"])
    with pytest.raises(Exception):  # noqa: B017 - nats names the error; the contract is the row's state
        await OutboxRelay(db, js).publish_pending()
    async with db.read_engine.connect() as session:
        row = (await session.execute(select(schema.outbox))).mappings().one()
    assert row["status"] == "pending"
    assert row["attempts"] == 1
    await messaging.ensure_stream(js, stream, prefix)
    assert await OutboxRelay(db, js).publish_pending() == 1


async def test_consumer_applies_each_effect_once_despite_failures_and_duplicates(
    db: Database, jetstream: Any
) -> None:
    js, stream, _ = jetstream
    uow = await published_tags(db, jetstream, ["1", "2"])
    # The same event again under another NATS message id: only the inbox can tell it is a duplicate.
    original = await js.get_msg(stream, seq=1)
    await js.publish(original.subject, original.data, headers={**original.headers, "Nats-Msg-Id": "other"})

    effects: list[str] = []
    failed_once: set[str] = set()

    async def handler(event: ReceivedEvent, unit: UnitOfWork) -> None:
        assert isinstance(event.message, events_pb2.TagMoved)
        if event.event_id not in failed_once:
            failed_once.add(event.event_id)
            raise RuntimeError("transient failure")
        effects.append(event.message.tag)
        await unit.events.append(
            f"effect-{event.event_id}", 0, [TagMoved("x/y", event.message.tag, "sha256:y")]
        )

    consumer = tag_consumer(jetstream, uow, Subscription(TAG_MOVED, events_pb2.TagMoved, handler))
    task = asyncio.create_task(consumer.run())
    try:
        await testing.eventually(lambda: sorted(effects) == ["1", "2"], within=15)
        await asyncio.sleep(1.0)  # give any duplicate its chance to be applied (it must not be)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)
    assert sorted(effects) == ["1", "2"]
    assert await inbox_rows(db, consumer.name) == 2


async def test_events_a_subscription_does_not_apply_to_are_acked_without_a_unit_of_work(
    db: Database, jetstream: Any
) -> None:
    js, stream, _ = jetstream
    uow = await published_tags(db, jetstream, ["skip-1", "keep", "skip-2"])
    handled: list[str] = []

    async def handler(event: ReceivedEvent, unit: UnitOfWork) -> None:
        assert isinstance(event.message, events_pb2.TagMoved)
        handled.append(event.message.tag)

    consumer = tag_consumer(
        jetstream,
        uow,
        Subscription(
            TAG_MOVED,
            events_pb2.TagMoved,
            handler,
            applies=lambda message: not message.tag.startswith("skip"),
        ),
    )
    task = asyncio.create_task(consumer.run())
    try:
        # every message is acknowledged: nothing is left for the durable consumer to deliver
        async def all_acked() -> bool:
            try:
                info = await js.consumer_info(stream, consumer.name)
            except NotFoundError:  # not created yet
                return False
            return info.num_ack_pending == 0 and info.num_pending == 0 and info.delivered.stream_seq == 3

        await testing.eventually(all_acked, within=15)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)
    assert handled == ["keep"]
    assert await inbox_rows(db, consumer.name) == 1  # the skipped events took no inbox row
