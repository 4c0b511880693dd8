"""Garbage collection: condemned by the registry's reports, spared by a link or an upload, swept after the
grace period (docs/decisions/0017). Domain rules, then the app on SQLite and PostgreSQL with real files."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from backend_contract import split, stream

from hangar.api.registry.v1 import events_pb2 as registry_events
from hangar.blobstore.app import App
from hangar.blobstore.domain import (
    SPARED_LINKED,
    SPARED_UPLOADED,
    BlobCollection,
    BlobCondemned,
    BlobDeleted,
    BlobSpared,
    Digest,
)
from hangar.blobstore.filesystem import FilesystemBackend
from hangar.blobstore.main import Settings, sweep
from hangar.blobstore.store import blob_collection, codec
from hangar.blobstore.subscriptions import subscriptions
from hangar.kit.errors import NotFound
from hangar.kit.messaging import PermanentFailure, ReceivedEvent
from hangar.kit.uow import UnitOfWorkFactory

OWNER = "acme/web"
CONTENT = b"layer bytes " * 1000
GRACE = timedelta(hours=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


# -- domain -----------------------------------------------------------------------------------------------


def test_an_orphaned_blob_is_condemned_and_deletable_only_after_the_grace_period() -> None:
    collection = BlobCollection(sha256(CONTENT))
    collection.orphaned(3, T0)
    assert collection.collect() == [BlobCondemned(digest=sha256(CONTENT), generation=3, condemned_at=T0)]
    assert not collection.delete(T0 + GRACE - timedelta(seconds=1), GRACE, 10)
    assert collection.collect() == []
    assert collection.delete(T0 + GRACE, GRACE, 10)
    assert collection.collect() == [BlobDeleted(digest=sha256(CONTENT), size=10)]
    assert not collection.condemned and not collection.delete(T0 + 2 * GRACE, GRACE, 10)


def test_a_newer_link_spares_and_an_older_report_is_ignored() -> None:
    digest = sha256(CONTENT)
    collection = BlobCollection(digest)
    collection.orphaned(2, T0)
    collection.referenced(3)
    assert not collection.condemned
    collection.orphaned(2, T0)  # redelivered late: older than the link
    collection.referenced(1)
    assert collection.collect() == [
        BlobCondemned(digest=digest, generation=2, condemned_at=T0),
        BlobSpared(digest=digest, generation=3, reason=SPARED_LINKED),
    ]
    # A link reported before any orphaning is remembered, so the older orphaning cannot condemn.
    fresh = BlobCollection(digest)
    fresh.referenced(5)
    fresh.orphaned(4, T0)
    assert [type(e) for e in fresh.collect()] == [BlobSpared]
    assert not fresh.condemned


def test_an_upload_spares_only_a_condemned_blob() -> None:
    digest = sha256(CONTENT)
    collection = BlobCollection(digest)
    collection.uploaded()
    assert collection.collect() == []
    collection.orphaned(1, T0)
    collection.uploaded()
    assert collection.collect()[-1] == BlobSpared(digest=digest, generation=1, reason=SPARED_UPLOADED)
    collection.orphaned(1, T0)  # the same report again: not newer
    assert collection.collect() == [] and not collection.condemned


def test_the_gc_events_round_trip_through_the_codec() -> None:
    events = codec()
    for event in (
        BlobCondemned(digest=sha256(CONTENT), generation=2, condemned_at=T0),
        BlobSpared(digest=sha256(CONTENT), generation=2, reason=SPARED_UPLOADED),
        BlobDeleted(digest=sha256(CONTENT), size=12),
    ):
        entry, payload = events.encode(event)
        assert entry.name == f"hangar.blobstore.v1.{type(event).__name__}"
        assert events.decode(entry.name, payload) == event


# -- app --------------------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend(tmp_path: Path) -> FilesystemBackend:
    return FilesystemBackend(tmp_path / "blobs")


@pytest.fixture
def app(uow: UnitOfWorkFactory[Any], backend: FilesystemBackend, clock: Clock) -> App:
    return App(uow, backend, clock=clock)


async def upload(app: App, data: bytes) -> tuple[str, int]:
    upload_id = await app.start_upload(OWNER)
    await app.write(upload_id, 0, stream(*split(data, 4096)))
    return await app.commit(upload_id, sha256(data))


async def report(uow: UnitOfWorkFactory[Any], app: App, kind: str, digest: str, generation: int) -> None:
    """Deliver a registry report through blobstore's subscription, as the consumer does (same unit of work
    as the inbox)."""
    routes = {s.event_type.rsplit(".", 1)[-1]: s for s in subscriptions(app)}
    if kind == "BlobOrphaned":
        message: Any = registry_events.BlobOrphaned(digest=digest, generation=generation)
    else:
        message = registry_events.BlobReferenced(digest=digest, repositories=1, generation=generation)
    async with uow() as unit:
        await routes[kind].handler(ReceivedEvent(f"event-{kind}-{generation}", kind, message, {}), unit)
        await unit.commit()


async def state(uow: UnitOfWorkFactory[Any], digest: str) -> str | None:
    async with uow(readonly=True) as unit:
        result = await unit.session.execute(
            blob_collection.select()
            .with_only_columns(blob_collection.c.state)
            .where(blob_collection.c.digest == digest)
        )
        return result.scalar_one_or_none()


async def test_an_orphaned_blob_is_deleted_after_the_grace_period_and_not_before(
    app: App, uow: UnitOfWorkFactory[Any], backend: FilesystemBackend, clock: Clock
) -> None:
    digest, size = await upload(app, CONTENT)
    await report(uow, app, "BlobOrphaned", digest, 2)
    assert await state(uow, digest) == "condemned"
    clock.now = T0 + GRACE - timedelta(seconds=1)
    assert await app.collect_garbage(GRACE) == 0
    assert await backend.stat(Digest.parse(digest)) == size
    clock.now = T0 + GRACE
    assert await app.collect_garbage(GRACE) == 1
    assert await backend.stat(Digest.parse(digest)) is None
    with pytest.raises(NotFound):
        await app.stat(digest)
    assert await state(uow, digest) == "deleted"
    assert await app.collect_garbage(GRACE) == 0  # nothing left to do
    # The same content uploaded again is stored anew.
    assert await upload(app, CONTENT) == (digest, size)
    assert await backend.stat(Digest.parse(digest)) == size
    assert await app.stat(digest) == size


async def test_a_link_reported_in_the_grace_period_spares_the_blob(
    app: App, uow: UnitOfWorkFactory[Any], backend: FilesystemBackend, clock: Clock
) -> None:
    digest, size = await upload(app, CONTENT)
    await report(uow, app, "BlobOrphaned", digest, 2)
    await report(uow, app, "BlobReferenced", digest, 3)
    await report(uow, app, "BlobOrphaned", digest, 2)  # a stale redelivery changes nothing
    clock.now = T0 + 2 * GRACE
    assert await app.collect_garbage(GRACE) == 0
    assert await state(uow, digest) == "spared"
    assert await backend.stat(Digest.parse(digest)) == size


async def test_an_upload_of_the_same_content_in_the_grace_period_spares_the_blob(
    app: App, uow: UnitOfWorkFactory[Any], backend: FilesystemBackend, clock: Clock
) -> None:
    digest, size = await upload(app, CONTENT)
    await report(uow, app, "BlobOrphaned", digest, 2)
    clock.now = T0 + GRACE / 2
    assert await upload(app, CONTENT) == (digest, size)  # deduplicated against the stored bytes
    assert await state(uow, digest) == "spared"
    clock.now = T0 + 2 * GRACE
    assert await app.collect_garbage(GRACE) == 0
    assert b"".join([c async for c in await app.read(digest)]) == CONTENT


async def test_a_sweep_is_bounded_by_its_batch_and_skips_what_is_not_due(
    app: App, uow: UnitOfWorkFactory[Any], backend: FilesystemBackend, clock: Clock
) -> None:
    contents = [f"blob {i}".encode() * 100 for i in range(5)]
    for i, content in enumerate(contents):
        digest, _ = await upload(app, content)
        clock.now = T0 + timedelta(minutes=i)
        await report(uow, app, "BlobOrphaned", digest, 1)
    clock.now = T0 + GRACE + timedelta(minutes=3, seconds=30)  # the first four are due
    assert await app.collect_garbage(GRACE, limit=3) == 3
    assert await app.collect_garbage(GRACE, limit=3) == 1
    assert await app.collect_garbage(GRACE, limit=3) == 0
    present = [await backend.stat(Digest.parse(sha256(c))) is not None for c in contents]
    assert present == [False, False, False, False, True]
    assert await app.collect_garbage(GRACE, limit=0) == 0


async def test_a_condemned_blob_whose_bytes_are_already_gone_is_recorded_deleted(
    app: App, uow: UnitOfWorkFactory[Any], backend: FilesystemBackend, clock: Clock
) -> None:
    """A sweep that crashed after deleting the bytes leaves the blob condemned: the next one finishes."""
    digest, _ = await upload(app, CONTENT)
    await report(uow, app, "BlobOrphaned", digest, 1)
    await backend.delete(Digest.parse(digest))
    clock.now = T0 + GRACE
    assert await app.collect_garbage(GRACE) == 1
    assert await state(uow, digest) == "deleted"


async def test_malformed_reports_are_terminated_not_retried(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    routes = {s.event_type.rsplit(".", 1)[-1]: s for s in subscriptions(app)}
    for kind, message in (
        ("BlobOrphaned", registry_events.BlobOrphaned(digest="sha256:nothex", generation=1)),
        ("BlobOrphaned", registry_events.BlobOrphaned(digest=sha256(CONTENT), generation=0)),
        ("BlobReferenced", registry_events.BlobReferenced(digest="x", repositories=1, generation=1)),
    ):
        async with uow() as unit:
            with pytest.raises(PermanentFailure):
                await routes[kind].handler(ReceivedEvent("e", kind, message, {}), unit)


def test_only_a_first_link_after_an_orphaning_reaches_the_handler(app: App) -> None:
    """The consumer skips (acknowledges without a transaction) link reports that cannot matter: a link that
    is not the first one anywhere, and a digest's very first usage event (generation 1), which no orphan
    report can precede."""
    route = {s.event_type.rsplit(".", 1)[-1]: s for s in subscriptions(app)}["BlobReferenced"]
    assert route.applies is not None

    def applies(repositories: int, generation: int) -> bool:
        assert route.applies is not None
        message = registry_events.BlobReferenced(
            digest=sha256(CONTENT), repositories=repositories, generation=generation
        )
        return route.applies(message)

    assert not applies(2, 9)
    assert not applies(1, 1)
    assert applies(1, 2)
    assert applies(1, 0)  # malformed: the handler terminates it


async def test_uploads_racing_sweeps_never_leave_a_stored_blob_without_its_bytes(
    app: App, uow: UnitOfWorkFactory[Any], backend: FilesystemBackend, clock: Clock
) -> None:
    contents = [f"raced {i}".encode() * 500 for i in range(12)]
    for content in contents:
        digest, _ = await upload(app, content)
        await report(uow, app, "BlobOrphaned", digest, 1)
    clock.now = T0 + GRACE
    outcomes = await asyncio.gather(
        *(upload(app, content) for content in contents),
        app.collect_garbage(GRACE, limit=len(contents)),
        return_exceptions=True,
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    for content in contents:
        # Every upload was acknowledged: its content must be readable, whoever won.
        assert await app.stat(sha256(content)) == len(content)
        assert b"".join([c async for c in await app.read(sha256(content))]) == content


# -- the sweep task ---------------------------------------------------------------------------------------


class _CountingApp:
    """Answers collect_garbage with a scripted count (or failure) per round."""

    def __init__(self, answers: list[int | Exception], stop: asyncio.Event) -> None:
        self.answers = answers
        self.calls: list[tuple[timedelta, int]] = []
        self.stop = stop

    async def collect_garbage(self, grace: timedelta, limit: int = 100) -> int:
        self.calls.append((grace, limit))
        if len(self.calls) >= len(self.answers):
            self.stop.set()
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_the_sweep_repeats_full_batches_survives_failures_and_stops() -> None:
    stop = asyncio.Event()
    fake = _CountingApp([2, 0, RuntimeError("database away"), 1], stop)
    settings = Settings(gc_grace_seconds=5, gc_interval_seconds=0.01, gc_batch=2)
    await asyncio.wait_for(sweep(cast(App, fake), settings, stop), timeout=10)
    assert fake.calls == [(timedelta(seconds=5), 2)] * 4


def test_gc_settings_are_bounded() -> None:
    assert Settings().gc_grace_seconds == 3600
    for bad in ({"gc_grace_seconds": -1}, {"gc_interval_seconds": 0}, {"gc_batch": 0}):
        with pytest.raises(ValueError):
            Settings(**bad)  # type: ignore[arg-type]
