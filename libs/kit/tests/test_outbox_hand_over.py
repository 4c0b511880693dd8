"""Committed outbox rows handed to the relay (docs/decisions/0029), on SQLite and PostgreSQL, against the
machine's real NATS: published from memory in commit order, marked published in batches, and left to a
scan of the table when a publish fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest
from kit_events import TagMoved, make_codec
from sqlalchemy import select

from hangar.api.registry.v1 import events_pb2
from hangar.kit import messaging, schema, testing
from hangar.kit.db import Database
from hangar.kit.eventstore import OutboxMessage
from hangar.kit.messaging import OutboxRelay
from hangar.kit.uow import UnitOfWorkFactory

pytestmark = pytest.mark.nats


class FlakyJetStream:
    """Passes publishes through to JetStream, counting them per Nats-Msg-Id; fails the next `failures`."""

    def __init__(self, js: Any) -> None:
        self.js = js
        self.published: list[str] = []
        self.failures = 0

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str], timeout: float) -> Any:
        if self.failures:
            self.failures -= 1
            raise TimeoutError("nats: timeout")
        self.published.append(headers["Nats-Msg-Id"])
        return await self.js.publish(subject, payload, headers=headers, timeout=timeout)


async def append_tags(uow: UnitOfWorkFactory[Any], tags: list[str]) -> None:
    for tag in tags:
        async with uow() as unit:
            version = await unit.events.stream_version("repo-1")
            await unit.events.append("repo-1", version, [TagMoved("a/b", tag, "sha256:x")])
            await unit.commit()


async def outbox(db: Database) -> list[Any]:
    async with db.read_engine.connect() as session:
        rows = await session.execute(select(schema.outbox).order_by(schema.outbox.c.id))
        return list(rows.mappings().all())


async def stream_tags(js: Any, stream: str) -> list[str]:
    count = int((await js.stream_info(stream)).state.messages)
    return [
        events_pb2.TagMoved.FromString((await js.get_msg(stream, seq=n)).data).tag
        for n in range(1, count + 1)
    ]


async def until(read: Any, holds: Any, within: float = 5.0) -> None:
    """Await `read()` until `holds(result)`, or fail after `within` seconds with the last result."""

    async def check() -> bool:
        return bool(holds(await read()))

    await testing.eventually(check, within=within)


def all_published(rows: list[Any]) -> bool:
    return {row["status"] for row in rows} == {"published"}


#: `await relay_of(**options)`, the fixture below.
MakeRelay = Callable[..., Awaitable[tuple[OutboxRelay, FlakyJetStream, UnitOfWorkFactory[Any]]]]


@pytest.fixture
async def relay_of(db: Database, jetstream: Any) -> AsyncIterator[MakeRelay]:
    """`await relay_of(**options)`: a running relay over a FlakyJetStream that has done its start-up scan, and
    units of work handing it their rows; every relay made is stopped (and awaited) at the end."""
    js, stream, prefix = jetstream
    await messaging.ensure_stream(js, stream, prefix)
    running: list[tuple[OutboxRelay, asyncio.Task[None]]] = []

    async def make(**options: Any) -> tuple[OutboxRelay, FlakyJetStream, UnitOfWorkFactory[Any]]:
        flaky = FlakyJetStream(js)
        relay = OutboxRelay(db, flaky, **options)  # type: ignore[arg-type]
        running.append((relay, asyncio.create_task(relay.run())))
        await testing.eventually(lambda: relay.caught_up, within=5)
        return (
            relay,
            flaky,
            UnitOfWorkFactory(db, make_codec(), subject_prefix=prefix, on_commit=relay.committed),
        )

    yield make
    for relay, task in running:
        relay.stop()
        await asyncio.wait_for(task, 10)


async def test_handed_over_rows_are_published_in_commit_order_without_reading_them_back(
    db: Database, jetstream: Any, relay_of: MakeRelay
) -> None:
    js, stream, _ = jetstream
    relay, flaky, uow = await relay_of(idle=30.0, mark_delay=0.2)
    scans = 0
    scan = relay.publish_pending

    async def counted_scan() -> int:
        nonlocal scans
        scans += 1
        return await scan()

    relay.publish_pending = counted_scan  # type: ignore[method-assign]

    await append_tags(uow, ["1", "2", "3"])

    await until(lambda: stream_tags(js, stream), lambda tags: tags == ["1", "2", "3"], within=5)
    assert scans == 0  # published from what the commits handed over
    rows = await outbox(db)
    assert flaky.published == [row["event_id"] for row in rows]
    await until(lambda: outbox(db), all_published)


async def test_rows_are_marked_published_in_one_batch_after_the_delay(
    db: Database, jetstream: Any, relay_of: MakeRelay
) -> None:
    js, stream, _ = jetstream
    _relay, _flaky, uow = await relay_of(idle=30.0, mark_delay=1.0)

    await append_tags(uow, ["1", "2"])
    await until(lambda: stream_tags(js, stream), lambda tags: tags == ["1", "2"], within=5)

    assert {row["status"] for row in await outbox(db)} == {"pending"}  # published, not marked yet
    await asyncio.sleep(1.5)
    rows = await outbox(db)
    assert {row["status"] for row in rows} == {"published"}
    assert len({row["published_at"] for row in rows}) == 1  # one statement marked both


async def test_a_failed_publish_leaves_the_rows_to_a_scan_that_publishes_each_once_in_order(
    db: Database, jetstream: Any, relay_of: MakeRelay
) -> None:
    js, stream, _ = jetstream
    _relay, flaky, uow = await relay_of(idle=30.0, mark_delay=0.05)
    flaky.failures = 1

    await append_tags(uow, ["1"])
    await append_tags(uow, ["2", "3"])

    await until(lambda: stream_tags(js, stream), lambda tags: tags == ["1", "2", "3"], within=10)
    assert len(flaky.published) == 3 == len(set(flaky.published))  # the scan took them: once each
    assert flaky.published == [row["event_id"] for row in await outbox(db)]
    await until(lambda: outbox(db), all_published)


async def test_rows_committed_before_the_relay_runs_are_found_by_its_first_scan(
    db: Database, jetstream: Any, relay_of: MakeRelay
) -> None:
    js, stream, prefix = jetstream
    await append_tags(UnitOfWorkFactory(db, make_codec(), subject_prefix=prefix), ["early"])

    _relay, _flaky, uow = await relay_of(idle=30.0)
    await append_tags(uow, ["late"])

    await until(lambda: stream_tags(js, stream), lambda tags: tags == ["early", "late"], within=5)


async def test_a_commit_that_wrote_no_outbox_row_hands_nothing_over(db: Database, jetstream: Any) -> None:
    _, _, prefix = jetstream
    handed: list[Sequence[OutboxMessage]] = []
    uow: UnitOfWorkFactory[Any] = UnitOfWorkFactory(
        db, make_codec(), subject_prefix=prefix, on_commit=handed.append
    )

    async with uow() as unit:
        await unit.inbox("consumer").record("event-1", "hangar.registry.v1.TagMoved")
        await unit.commit()
    async with uow() as unit:
        await unit.events.append("repo-1", 0, [TagMoved("a/b", "1", "sha256:x")])  # rolled back: no commit
    await append_tags(uow, ["2"])

    assert [[message.subject.rsplit(".", 1)[1] for message in batch] for batch in handed] == [["TagMoved"]]
    (batch,) = handed
    (row,) = [r for r in await outbox(db) if r["event_id"] == batch[0].headers["Nats-Msg-Id"]]
    assert row["id"] == batch[0].row_id and bytes(row["payload"]) == batch[0].payload
