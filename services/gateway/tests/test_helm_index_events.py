"""IndexEvents over the shared NATS: the registry events that can change an index arrive and evict; the
per-blob bookkeeping of a push is not even delivered."""

from __future__ import annotations

import asyncio

import nats
from nats.aio.msg import Msg

from hangar.api.registry.v1 import artifact_events_pb2, events_pb2
from hangar.gateway.helm.events import IGNORED, IndexEvents, index_subjects
from hangar.kit import testing


class Recorded:
    """An `Indexes` that records what it was told."""

    def __init__(self) -> None:
        self.changed_repositories: list[str] = []
        self.forgot_everything = 0

    def changed(self, repository: str) -> None:
        self.changed_repositories.append(repository)

    def forget(self, namespace: str) -> None:
        raise AssertionError("events name repositories")

    def forget_everything(self) -> None:
        self.forgot_everything += 1


def test_every_registry_event_but_the_blob_bookkeeping_has_a_subject() -> None:
    subjects = index_subjects("pfx")

    names = {subject.removeprefix("pfx.registry.") for subject in subjects}
    assert {"ManifestPushed", "ManifestDeleted", "TagMoved", "TagDeleted", "RepositoryCreated"} <= names
    assert {"VersionCommitted", "VersionDeleted", "RepositoryKindChanged"} <= names
    assert not names & IGNORED
    every = set(events_pb2.DESCRIPTOR.message_types_by_name) | set(
        artifact_events_pb2.DESCRIPTOR.message_types_by_name
    )
    assert names == every - IGNORED


async def test_a_pushed_manifest_evicts_and_blob_links_are_not_delivered() -> None:
    prefix = testing.unique_name("helmidx")
    indexes = Recorded()
    listener = IndexEvents(indexes, testing.SHARED_NATS_URL, prefix)
    delivered: list[str] = []
    on_message = listener._on_message

    async def counting(msg: Msg) -> None:
        delivered.append(msg.subject)
        await on_message(msg)

    listener._on_message = counting  # type: ignore[method-assign]
    await listener.start()
    nc = await nats.connect(testing.SHARED_NATS_URL)
    try:
        await asyncio.wait_for(listener.connected.wait(), 10)
        baseline = indexes.forgot_everything
        linked = events_pb2.BlobLinked(repository="demo/charts/x")
        await nc.publish(f"{prefix}.registry.BlobLinked", linked.SerializeToString())
        await nc.publish(f"{prefix}.registry.BlobReferenced", events_pb2.BlobReferenced().SerializeToString())
        pushed = events_pb2.ManifestPushed(repository="demo/charts/mychart")
        await nc.publish(f"{prefix}.registry.ManifestPushed", pushed.SerializeToString())
        await nc.flush()
        for _ in range(100):
            if indexes.changed_repositories:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # anything else on its way arrives meanwhile
    finally:
        await nc.close()
        await listener.stop()

    assert indexes.changed_repositories == ["demo/charts/mychart"]
    assert delivered == [f"{prefix}.registry.ManifestPushed"]
    assert indexes.forgot_everything == baseline
