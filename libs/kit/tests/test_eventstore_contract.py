"""Event store contract: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from kit_events import BlobLinked, TagMoved, make_codec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.kit import context, schema
from hangar.kit.db import Database
from hangar.kit.errors import ConcurrencyConflict
from hangar.kit.eventstore import StoredEvent
from hangar.kit.uow import UnitOfWorkFactory


def factory(db: Database, *projectors: object) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(db, make_codec(), subject_prefix="hangar", projectors=list(projectors))  # type: ignore[arg-type]


async def count(db: Database, table: object) -> int:
    async with db.read_engine.connect() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_appended_events_load_back_in_order_with_versions(db: Database) -> None:
    uow = factory(db)
    async with uow() as u:
        await u.events.append(
            "repo-a", 0, [TagMoved("a/b", "1", "sha256:x"), TagMoved("a/b", "2", "sha256:y")]
        )
        await u.commit()
    async with uow() as u:
        await u.events.append("repo-a", 2, [TagMoved("a/b", "1", "sha256:z", "sha256:x")])
        await u.commit()
    async with uow(readonly=True) as u:
        loaded = await u.events.load("repo-a")
    assert [(e.version, e.event) for e in loaded] == [
        (1, TagMoved("a/b", "1", "sha256:x")),
        (2, TagMoved("a/b", "2", "sha256:y")),
        (3, TagMoved("a/b", "1", "sha256:z", "sha256:x")),
    ]
    assert loaded[0].position < loaded[1].position < loaded[2].position
    assert loaded[0].type == "hangar.registry.v1.TagMoved"


async def test_append_at_a_stale_version_conflicts_and_writes_nothing(db: Database) -> None:
    uow = factory(db)
    async with uow() as u:
        await u.events.append("repo-a", 0, [TagMoved("a/b", "1", "sha256:x")])
        await u.commit()
    async with uow() as u:
        with pytest.raises(ConcurrencyConflict):
            await u.events.append("repo-a", 0, [TagMoved("a/b", "2", "sha256:y")])
    assert await count(db, schema.events) == 1
    assert await count(db, schema.outbox) == 1


async def test_concurrent_appends_to_one_stream_let_exactly_one_win(db: Database) -> None:
    uow = factory(db)
    outcomes: list[str] = []
    both_read = asyncio.Barrier(2) if not db.is_sqlite else None

    async def writer(tag: str) -> None:
        try:
            async with uow() as u:
                version = await u.events.stream_version("repo-race")
                if both_read is not None:
                    await both_read.wait()  # both saw version 0 before either appends
                await u.events.append("repo-race", version, [TagMoved("a/b", tag, "sha256:x")])
                await u.commit()
                outcomes.append("ok")
        except ConcurrencyConflict:
            outcomes.append("conflict")

    await asyncio.gather(writer("1"), writer("2"))
    async with uow() as u:
        events = await u.events.load("repo-race")
    # On SQLite the writers queue on the database lock, so the second may append after the first (version 2).
    assert len(events) == outcomes.count("ok")
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    if both_read is not None:
        assert sorted(outcomes) == ["conflict", "ok"]


async def test_projection_and_outbox_are_written_in_the_same_transaction(db: Database) -> None:
    seen: list[str] = []

    async def project(session: AsyncConnection, stored: StoredEvent) -> None:
        assert session.in_transaction()
        seen.append(stored.event_id)

    uow = factory(db, project)
    async with uow() as u:
        stored = await u.events.append("repo-a", 0, [TagMoved("a/b", "1", "sha256:x")])
        await u.commit()
    assert seen == [stored[0].event_id]
    async with db.read_engine.connect() as session:
        row = (await session.execute(select(schema.outbox))).mappings().one()
    assert row["event_id"] == stored[0].event_id
    assert row["subject"] == "hangar.registry.TagMoved"
    assert row["headers"]["Nats-Msg-Id"] == stored[0].event_id
    assert row["status"] == "pending"


async def test_a_failing_projection_leaves_no_event_and_no_outbox_row(db: Database) -> None:
    async def broken(session: AsyncConnection, stored: StoredEvent) -> None:
        raise RuntimeError("projection failed")

    uow = factory(db, broken)
    with pytest.raises(RuntimeError):
        async with uow() as u:
            await u.events.append("repo-a", 0, [TagMoved("a/b", "1", "sha256:x")])
            await u.commit()
    assert await count(db, schema.events) == 0
    assert await count(db, schema.outbox) == 0


async def test_leaving_without_commit_rolls_back(db: Database) -> None:
    uow = factory(db)
    async with uow() as u:
        await u.events.append("repo-a", 0, [TagMoved("a/b", "1", "sha256:x")])
    assert await count(db, schema.events) == 0


async def test_metadata_carries_actor_correlation_and_causation(db: Database) -> None:
    uow = factory(db)
    with context.bound(context.CallContext(actor="user-1", correlation_id="corr-1", causation_id="evt-0")):
        async with uow() as u:
            [stored] = await u.events.append("repo-a", 0, [TagMoved("a/b", "1", "sha256:x")])
            await u.commit()
    async with uow() as u:
        [loaded] = await u.events.load("repo-a")
    assert loaded.meta["actor"] == "user-1"
    assert loaded.meta["correlation_id"] == "corr-1"
    assert loaded.meta["causation_id"] == "evt-0"
    assert loaded.meta["event_id"] == stored.event_id


async def test_private_fields_stay_in_the_store_and_out_of_the_outbox(db: Database) -> None:
    uow = factory(db)
    async with uow() as u:
        await u.events.append("repo-a", 0, [BlobLinked("a/b", "sha256:x", 42)])
        await u.commit()
    async with uow() as u:
        [loaded] = await u.events.load("repo-a")
    assert loaded.event == BlobLinked("a/b", "sha256:x", 42)
    from hangar.api.registry.v1 import events_pb2

    async with db.read_engine.connect() as session:
        payload = (await session.execute(select(schema.outbox.c.payload))).scalar_one()
    published = events_pb2.BlobLinked.FromString(payload)
    assert published.digest == "sha256:x" and published.size == 0


async def test_read_all_returns_every_stream_in_global_order(db: Database) -> None:
    uow = factory(db)
    for stream in ("s1", "s2", "s1"):
        async with uow() as u:
            version = await u.events.stream_version(stream)
            await u.events.append(stream, version, [TagMoved("a/b", stream, "sha256:x")])
            await u.commit()
    async with uow() as u:
        everything = await u.events.read_all()
        after_first = await u.events.read_all(after_position=everything[0].position)
    assert [e.stream_id for e in everything] == ["s1", "s2", "s1"]
    assert [e.stream_id for e in after_first] == ["s2", "s1"]


async def test_inbox_remembers_processed_events_per_consumer(db: Database) -> None:
    uow = factory(db)
    async with uow() as u:
        assert not await u.inbox("keys").seen("e1")
        await u.inbox("keys").record("e1", "hangar.identity.v1.UserRemoved")
        await u.commit()
    async with uow() as u:
        assert await u.inbox("keys").seen("e1")
        assert not await u.inbox("gateway").seen("e1")


async def test_inbox_refuses_recording_one_event_twice(db: Database) -> None:
    uow = factory(db)
    async with uow() as u:
        await u.inbox("keys").record("e1", "t")
        await u.commit()
    with pytest.raises(Exception):  # noqa: B017 - the unique key is the guarantee; the driver names the error
        async with uow() as u:
            await u.inbox("keys").record("e1", "t")
            await u.commit()
